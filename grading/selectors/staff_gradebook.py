"""Staff reads of everyone's grades, all through :func:`grade_rows`: a page of the gradebook,
the Canvas CSV export (per section), and the grade now of what regrade requests are about."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet

from courses.anonymity import names_hidden
from courses.models import SUBMITTING_ROLES, Assignment, Category, Enrollment, Level, Section
from courses.selectors import max_points
from grading import export, gradebook
from grading.selectors.final_grades import (
    GradeCell,
    StudentRow,
    course_assignments,
    grade_rows,
    level_of,
)
from grading.selectors.gradebook_keys import StudentKeys, course_keys
from grading.selectors.grades import grades_released, staff_check
from portal.errors import NotFound, ValidationFailed

_BY_NAME = ("user__last_name", "user__first_name", "user__username")


def gradebook_roster(
    course_id: int, *, by_section: bool = False, desc: bool = False
) -> QuerySet[Enrollment]:
    """The course's students and waitlisted students by name, ``desc``: descending; with
    ``by_section``, by section code first (``desc``: descending; no section last), then by
    name ascending within a section."""
    qs = Enrollment.objects.filter(
        course_id=course_id, role__in=sorted(SUBMITTING_ROLES)
    ).select_related("user", "section")
    if by_section:
        code = F("section__code")
        return qs.order_by(
            code.desc(nulls_last=True) if desc else code.asc(nulls_last=True), *_BY_NAME
        )
    if desc:
        return qs.order_by(*(F(f).desc() for f in _BY_NAME))
    return qs.order_by(*_BY_NAME)


def _filtered(
    qs: QuerySet[Enrollment],
    *,
    section: str | None,
    search: str | None,
    level: str | None = None,
    role: str | None = None,
) -> QuerySet[Enrollment]:
    if section:
        qs = qs.filter(section__code=section)
    if level:
        qs = qs.filter(section__level=level)
    if role:
        qs = qs.filter(role=role)
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
class GradebookFilters:
    """What the gradebook is narrowed to and sorted by (page and API alike).

    In SQL, from the roster: ``section`` (a code), ``search`` (a piece of a name or username),
    ``level`` (``undergraduate``, ``graduate``), ``role`` (``student``, ``waitlisted``). From
    the computed grades (:func:`grade_rows`, never a second computation): ``flagged`` (the
    readiness flag is true: PS0 at or below its threshold), ``missing`` (``"any"``: at least
    one released assignment missing; an assignment's slug: that one missing). ``sort``:
    ``name`` (last, first, username; the default), ``section``, ``final_percent``,
    ``assignment:<slug>`` (its points), ``category:<slug>`` (its percent); ``order``: ``asc``
    or ``desc``. Students without a value (ungraded, excused, no final yet) come last either
    way; ties keep the name order."""

    section: str | None = None
    search: str | None = None
    level: str | None = None
    role: str | None = None
    flagged: bool = False
    missing: str | None = None
    sort: str = "name"
    order: str = "asc"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GradebookFilters:
        """The filters from query parameters (page and API alike): ``flagged`` is true or
        false (1/0, yes/no, on/off); the rest are checked by :func:`gradebook_page`."""

        def text(name: str) -> str | None:
            return (params.get(name) or "").strip() or None

        flagged = (params.get("flagged") or "").strip().lower()
        if flagged not in _TRUE + _FALSE:
            raise ValidationFailed("flagged is true or false.")
        return cls(
            section=text("section"),
            search=text("search"),
            level=text("level"),
            role=text("role"),
            flagged=flagged in _TRUE,
            missing=text("missing"),
            sort=text("sort") or "name",
            order=(text("order") or "asc").lower(),
        )

    @property
    def computed(self) -> bool:
        """Whether every student's grades must be computed (a filter or sort on them)."""
        return self.flagged or bool(self.missing) or self.sort not in _SQL_SORTS


MISSING_ANY = "any"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
ORDERS = ("asc", "desc")
_SQL_SORTS = ("name", "section")


@dataclass(frozen=True)
class GradebookPage:
    count: int
    rows: list[StudentRow]
    assignments: list[Assignment]
    withheld: Withheld = field(default_factory=Withheld)
    categories: list[Category] = field(default_factory=list)
    filters: GradebookFilters = field(default_factory=GradebookFilters)


def _check_filters(
    filters: GradebookFilters,
    assignments: list[Assignment],
    categories: list[Category],
    withheld: Withheld,
) -> None:
    """Refuses (400) a filter or sort the gradebook does not know, and, under anonymous
    grading, one on numbers withheld from the caller (they would give them away)."""
    by_slug = {a.slug: a for a in assignments}
    if filters.level and filters.level not in Level.values:
        raise ValidationFailed(f"level is one of {', '.join(Level.values)}.", code="invalid")
    if filters.role and filters.role not in SUBMITTING_ROLES:
        raise ValidationFailed(f"role is one of {', '.join(sorted(SUBMITTING_ROLES))}.")
    if filters.order not in ORDERS:
        raise ValidationFailed("order is asc or desc.")
    if filters.missing and filters.missing != MISSING_ANY and filters.missing not in by_slug:
        raise ValidationFailed(
            f"missing is {MISSING_ANY} or an assignment's slug; there is no "
            f"assignment {filters.missing}."
        )
    kind, _, slug = filters.sort.partition(":")
    known = (
        filters.sort in (*_SQL_SORTS, "final_percent")
        or (kind == "assignment" and slug in by_slug)
        or (kind == "category" and slug in {c.slug for c in categories})
    )
    if not known:
        raise ValidationFailed(
            f"sort is name, section, final_percent, assignment:<slug> or category:<slug>; "
            f"'{filters.sort}' is none of this course's."
        )
    hidden = [
        by_slug[s]
        for s in (slug if kind == "assignment" else None, filters.missing)
        if s in withheld.slugs
    ]
    if hidden:
        raise _withheld_refusal(hidden[0].title)
    if withheld.percent and (filters.flagged or kind == "category" or kind == "final_percent"):
        titles = ", ".join(a.title for a in assignments if a.slug in withheld.slugs)
        raise _withheld_refusal(titles, percent=True)


def _withheld_refusal(titles: str, *, percent: bool = False) -> ValidationFailed:
    what = "the final percent, the categories and the readiness flag count it" if percent else ""
    return ValidationFailed(
        f"{titles} is graded anonymously and its students' names are hidden from you: "
        + (f"{what}, so" if percent else "its numbers are withheld, so")
        + " the gradebook cannot be sorted or filtered by them until the instructor reveals "
        "the names.",
        code="withheld",
    )


def _sort_value(keys: StudentKeys, sort: str) -> Decimal | None:
    kind, _, slug = sort.partition(":")
    if kind == "final_percent":
        return keys.final_percent
    if kind == "category":
        return keys.categories.get(slug)
    return keys.points.get(slug)


def _keep(keys: StudentKeys, filters: GradebookFilters, withheld: Withheld) -> bool:
    if filters.flagged and not keys.flagged:
        return False
    if filters.missing == MISSING_ANY:
        return any(slug not in withheld.slugs for slug in keys.missing)
    if filters.missing:
        return filters.missing in keys.missing
    return True


def _computed_page(
    order: list[int],
    keys: Mapping[int, StudentKeys],
    filters: GradebookFilters,
    withheld: Withheld,
    start: int,
    size: int,
) -> tuple[int, list[int]]:
    """The students (user ids, in name order in ``order``) kept by the computed filters,
    sorted (without a value last; ties in name order), and the page of them: their count
    and the page's user ids."""
    kept = [uid for uid in order if uid in keys and _keep(keys[uid], filters, withheld)]
    if filters.sort in _SQL_SORTS:
        ordered = kept
    else:
        valued = [
            (v, uid) for uid in kept if (v := _sort_value(keys[uid], filters.sort)) is not None
        ]
        valued.sort(key=lambda vu: vu[0], reverse=filters.order == "desc")  # stable
        empty = [uid for uid in kept if _sort_value(keys[uid], filters.sort) is None]
        ordered = [uid for _, uid in valued] + empty
    return len(ordered), ordered[start : start + size]


def gradebook_page(
    *,
    enrollment: Enrollment,
    now: datetime,
    page: int = 1,
    page_size: int = 100,
    section: str | None = None,
    search: str | None = None,
    filters: GradebookFilters | None = None,
) -> GradebookPage:
    """Staff: one page of the gradebook (students and waitlisted students), filtered and
    sorted as :class:`GradebookFilters` says (by last name by default); bad filters and,
    for a TA under anonymous grading, filters on withheld numbers are refused (400).

    Filtering and sorting by name, section, level, role or search happen in SQL and only
    the page's students are computed. A filter or sort on computed grades (flagged,
    missing, points, percents) reads every student's numbers as :func:`grade_rows` gives
    them (:mod:`grading.selectors.gradebook_keys`, which recomputes only the students whose
    grades, role or level changed since it last did, and everyone when the configuration
    or a release did), then filters, sorts and pages, then computes the page's rows in
    full: the grades are the one selector's, never a second SQL computation. Queries stay
    flat however many students, assignments and grades."""
    staff_check(enrollment)
    filters = filters or GradebookFilters(section=section, search=search)
    course_id = enrollment.course_id
    assignments = list(course_assignments(course_id))
    categories = list(Category.objects.filter(course_id=course_id).order_by("position", "slug"))
    withheld = withheld_for(enrollment=enrollment, assignments=assignments, now=now)
    _check_filters(filters, assignments, categories, withheld)
    qs = _filtered(
        gradebook_roster(
            course_id,
            by_section=filters.sort == "section",
            # a computed sort keeps ties in name order, whichever way it goes
            desc=filters.order == "desc" and filters.sort in _SQL_SORTS,
        ),
        section=filters.section,
        search=filters.search,
        level=filters.level,
        role=filters.role,
    )
    start = (max(page, 1) - 1) * page_size
    if filters.computed:
        roster = list(qs.values_list("user_id", "role", "section__level"))
        keys = course_keys(
            course_id=course_id,
            roster=roster,
            assignments=assignments,
            categories=categories,
            now=now,
        )
        count, page_ids = _computed_page(
            [uid for uid, _, _ in roster], keys, filters, withheld, start, page_size
        )
        by_id = {e.user_id: e for e in qs.filter(user_id__in=page_ids)} if page_ids else {}
        students = [by_id[uid] for uid in page_ids if uid in by_id]
    else:
        count = qs.count()
        students = list(qs[start : start + page_size])
    rows = grade_rows(course_id=course_id, students=students, now=now)
    return GradebookPage(
        count=count,
        rows=_withhold(rows, withheld),
        assignments=assignments,
        withheld=withheld,
        categories=categories,
        filters=filters,
    )


def gradebook_export(
    *, enrollment: Enrollment, now: datetime, section: str | None = None
) -> tuple[list[export.ExportRow], list[export.ExportAssignment]]:
    """Staff: the course's gradebook for :func:`grading.export.canvas_csv` (of one section
    with ``section``). One row per student and waitlisted student; one column per assignment,
    released or not, with the points of :func:`grade_rows` (as :mod:`gradebook_keys` keeps
    them: only the students changed since are recomputed). ``Points Possible`` is the
    section's level's maximum (without a section, the larger of the two levels'). Under
    anonymous grading a TA's export leaves out the columns of the assignments whose
    students they see by pseudonym, and the ``Current Score`` once one of them counts
    (:class:`Withheld`)."""
    staff_check(enrollment)
    course_id = enrollment.course_id
    students = list(_filtered(gradebook_roster(course_id), section=section, search=None))
    assignments = list(course_assignments(course_id))
    categories = list(Category.objects.filter(course_id=course_id).order_by("position", "slug"))
    keys = course_keys(
        course_id=course_id,
        roster=[(e.user_id, e.role, level_of(e)) for e in students],
        assignments=assignments,
        categories=categories,
        now=now,
    )
    withheld = withheld_for(enrollment=enrollment, assignments=assignments, now=now)
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
    rows = [
        _export_row(e, keys[e.user_id], [a.slug for a in assignments], withheld)
        for e in students
        if e.user_id in keys
    ]
    return rows, columns


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


def _export_row(
    e: Enrollment, keys: StudentKeys, slugs: list[str], withheld: Withheld
) -> export.ExportRow:
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
            slug: gradebook.Score(
                points=None if slug in keys.missing else keys.points[slug],
                excused=slug in keys.excused,
            )
            for slug in slugs
        },
        final_percent=None if withheld.percent else keys.final_percent,
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
