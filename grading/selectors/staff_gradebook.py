"""Staff reads of everyone's grades, all through :func:`grade_rows`: a page of the gradebook,
the Canvas CSV export (per section), and the grade now of what regrade requests are about."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet

from courses.anonymity import names_hidden
from courses.models import SUBMITTING_ROLES, Assignment, Enrollment, Section
from courses.selectors import max_points
from grading import export, gradebook
from grading.selectors.final_grades import GradeCell, StudentRow, course_assignments, grade_rows
from grading.selectors.grades import grades_released, staff_check
from portal.errors import NotFound


def _roster(course_id: int) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(course_id=course_id, role__in=sorted(SUBMITTING_ROLES))
        .select_related("user", "section")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def _filtered(
    qs: QuerySet[Enrollment], *, section: str | None, search: str | None
) -> QuerySet[Enrollment]:
    if section:
        qs = qs.filter(section__code=section)
    if search:
        qs = qs.filter(
            Q(user__username__icontains=search)
            | Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
        )
    return qs


@dataclass(frozen=True)
class Withheld:
    """What the gradebook withholds from a viewer under anonymous grading (its rows carry
    names): the numbers of the assignments whose students the viewer sees by pseudonym
    (``slugs``), and, once one of them is released (it then counts), the final percent and
    the readiness flag, from which its numbers could be worked out (``percent``)."""

    slugs: frozenset[str] = field(default_factory=frozenset)
    percent: bool = False


def withheld_for(
    *, enrollment: Enrollment, assignments: Iterable[Assignment], now: datetime
) -> Withheld:
    """For a TA: the anonymous assignments whose names are not revealed (see
    ``courses.anonymity``); for an instructor: nothing."""
    hidden = [a for a in assignments if names_hidden(enrollment=enrollment, assignment=a)]
    return Withheld(
        slugs=frozenset(a.slug for a in hidden),
        percent=any(grades_released(a, now) for a in hidden),
    )


def _withhold_cell(cell: GradeCell) -> GradeCell:
    return replace(
        cell,
        points=None,
        percent=None,
        excused=False,
        missing=False,
        needs_review=False,
        questions=(),
    )


def _withhold(rows: list[StudentRow], withheld: Withheld) -> list[StudentRow]:
    if not withheld.slugs:
        return rows
    return [
        replace(
            row,
            cells=tuple(
                _withhold_cell(c) if c.assignment.slug in withheld.slugs else c for c in row.cells
            ),
            report=(
                replace(
                    row.report,
                    assignments=(),
                    categories=(),
                    base_percent=None,
                    bonus_percent=Decimal(0),
                    final_percent=None,
                    readiness_flag=None,
                )
                if withheld.percent
                else row.report
            ),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class GradebookPage:
    count: int
    rows: list[StudentRow]
    assignments: list[Assignment]
    withheld: Withheld = field(default_factory=Withheld)


def gradebook_page(
    *,
    enrollment: Enrollment,
    now: datetime,
    page: int = 1,
    page_size: int = 100,
    section: str | None = None,
    search: str | None = None,
) -> GradebookPage:
    """Staff: one page of the gradebook (students and waitlisted students by last name),
    filtered by section code and by a piece of a name or username. Seven queries however
    many students, assignments and grades."""
    staff_check(enrollment)
    qs = _filtered(_roster(enrollment.course_id), section=section, search=search)
    count = qs.count()
    start = (max(page, 1) - 1) * page_size
    students = list(qs[start : start + page_size])
    rows = grade_rows(course_id=enrollment.course_id, students=students, now=now)
    assignments = (
        list(course_assignments(enrollment.course_id))
        if not rows
        else [c.assignment for c in rows[0].cells]
    )
    withheld = withheld_for(enrollment=enrollment, assignments=assignments, now=now)
    return GradebookPage(
        count=count, rows=_withhold(rows, withheld), assignments=assignments, withheld=withheld
    )


def gradebook_export(
    *, enrollment: Enrollment, now: datetime, section: str | None = None
) -> tuple[list[export.ExportRow], list[export.ExportAssignment]]:
    """Staff: the course's gradebook for :func:`grading.export.canvas_csv` (of one section
    with ``section``). One row per student and waitlisted student; one column per assignment,
    released or not, with the points of :func:`grade_rows`. ``Points Possible`` is the
    section's level's maximum (without a section, the larger of the two levels'). Under
    anonymous grading a TA's export leaves out the columns of the assignments whose
    students they see by pseudonym, and the ``Current Score`` once one of them counts
    (:class:`Withheld`)."""
    staff_check(enrollment)
    course_id = enrollment.course_id
    students = list(_filtered(_roster(course_id), section=section, search=None))
    rows = grade_rows(course_id=course_id, students=students, now=now)
    assignments = list(course_assignments(course_id))
    withheld = withheld_for(enrollment=enrollment, assignments=assignments, now=now)
    rows = _withhold(rows, withheld)
    assignments = [a for a in assignments if a.slug not in withheld.slugs]
    level = _section_level(course_id, section)
    columns = [
        export.ExportAssignment(
            id=a.slug,
            title=a.title,
            points_possible=max_points(list(a.questions.all()), level, a.points),
        )
        for a in assignments
    ]
    return [_export_row(r) for r in rows], columns


def _section_level(course_id: int, section: str | None) -> str | None:
    if not section:
        return None
    level = (
        Section.objects.filter(course_id=course_id, code=section)
        .values_list("level", flat=True)
        .first()
    )
    if level is None:
        raise NotFound(f"There is no section {section} in this course.")
    return level


def _export_row(row: StudentRow) -> export.ExportRow:
    e = row.enrollment
    user = e.user
    return export.ExportRow(
        last_name=user.last_name,
        first_name=user.first_name,
        user_id=e.user_id,
        username=user.username,
        email=user.email,
        section=e.section.code if e.section is not None else "",
        # Canvas leaves an ungraded cell empty (a missing one still counts 0 in the percent).
        scores={
            c.assignment.slug: gradebook.Score(
                points=None if c.missing else c.points, excused=c.excused
            )
            for c in row.cells
        },
        final_percent=row.report.final_percent,
    )


def current_points(
    *, course_id: int, asked: Iterable[tuple[int, str, str]], now: datetime
) -> dict[tuple[int, str, str], Decimal | None]:
    """The grade now of each (student id, assignment slug, question) asked about (a regrade
    request's): the question's points, or ("") the assignment's. Six queries however many."""
    wanted = list(asked)
    students = list(
        Enrollment.objects.filter(
            course_id=course_id, user_id__in={w[0] for w in wanted}
        ).select_related("user", "section")
    )
    rows = {
        r.enrollment.user_id: r for r in grade_rows(course_id=course_id, students=students, now=now)
    }
    found: dict[tuple[int, str, str], Decimal | None] = {}
    for user_id, slug, question in wanted:
        row = rows.get(user_id)
        cell = row.cell(slug) if row is not None else None
        if cell is None:
            found[(user_id, slug, question)] = None
        elif question:
            q = next((q for q in cell.questions if q.slug == question), None)
            found[(user_id, slug, question)] = q.points if q is not None else None
        else:
            found[(user_id, slug, question)] = cell.points
    return found
