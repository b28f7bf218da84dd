"""The one place a student's grades are read: :func:`grade_rows` puts the grade rows (whose
points ``grading.scoring`` computed) through the gradebook policy (:mod:`grading.gradebook`),
and every surface reads what it gives: a student's own grades, the assignment list's
``my_grade``, the receipt, the staff gradebook (page, JSON and Canvas CSV), the regrade list.
So one student's grade is the same number everywhere."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from courses.models import SUBMITTING_ROLES, Assignment, Category, Enrollment, Question, Section
from courses.selectors import extra_credit_points, max_points
from grading import export, gradebook
from grading.models import Grade
from grading.selectors.grades import grades_released, staff_check, student_points
from grading.selectors.regrades import regrade_window_closes_at
from portal.errors import NotFound

# A student's grade rows, by assignment id.
GradesByAssignment = dict[int, list[Grade]]


@dataclass(frozen=True)
class QuestionCell:
    """One question of a student's grade: its points (None: ungraded), its maximum, and
    whether staff override it (the page says so)."""

    slug: str
    title: str
    points: Decimal | None
    max_points: Decimal
    overridden: bool


@dataclass(frozen=True)
class GradeCell:
    """One student's grade on one assignment, as every surface shows it. ``points`` are the
    counted points (clamped to the maximum plus extra credit): 0 when ``missing`` (released,
    nothing graded), None when excused or, before the release, ungraded."""

    assignment: Assignment
    released: bool
    points: Decimal | None
    max_points: Decimal
    extra_credit_points: Decimal
    percent: Decimal | None
    excused: bool
    missing: bool
    needs_review: bool
    questions: tuple[QuestionCell, ...]


@dataclass(frozen=True)
class StudentRow:
    """A student's grades: a cell per assignment (released or not, in the course's order),
    and the gradebook report over the released ones (the final percent they see)."""

    enrollment: Enrollment
    cells: tuple[GradeCell, ...]
    report: gradebook.GradeReport

    def cell(self, slug: str) -> GradeCell:
        return next(c for c in self.cells if c.assignment.slug == slug)


def _category_policies(course_id: int) -> list[gradebook.CategoryPolicy]:
    return [
        gradebook.CategoryPolicy(slug=c.slug, weight=c.weight, bonus=c.bonus)
        for c in Category.objects.filter(course_id=course_id).order_by("position", "slug")
    ]


def _assignment_policy(
    assignment: Assignment, level: str | None, *, released: bool
) -> gradebook.AssignmentPolicy:
    """The policy input of one assignment at a level; its questions must be prefetched."""
    questions = list(assignment.questions.all())
    return gradebook.AssignmentPolicy(
        slug=assignment.slug,
        title=assignment.title,
        category=assignment.category.slug,
        max_points=max_points(questions, level, assignment.points),
        extra_credit_points=extra_credit_points(questions, level),
        released=released,
        readiness_threshold=assignment.readiness_threshold,
    )


def course_assignments(course_id: int) -> QuerySet[Assignment]:
    """The course's assignments in order, with their category and questions."""
    return (
        Assignment.objects.filter(course_id=course_id)
        .select_related("course", "category")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .order_by("position", "due_at", "slug")
    )


def _level(enrollment: Enrollment) -> str | None:
    return enrollment.section.level if enrollment.section is not None else None


def _grades_of(course_id: int, user_ids: Iterable[int]) -> dict[int, GradesByAssignment]:
    """The students' grade rows in the course, by student id and assignment id. One query."""
    by_student: dict[int, GradesByAssignment] = {}
    for g in Grade.objects.filter(
        assignment__course_id=course_id, student_id__in=list(user_ids)
    ).order_by("question"):
        by_student.setdefault(g.student_id, {}).setdefault(g.assignment_id, []).append(g)
    return by_student


def _questions(assignment: Assignment, rows: list[Grade]) -> tuple[QuestionCell, ...]:
    by_slug = {g.question: g for g in rows}
    return tuple(
        QuestionCell(
            slug=q.slug,
            title=q.shown,
            points=by_slug[q.slug].points if q.slug in by_slug else None,
            max_points=q.points,
            overridden=q.slug in by_slug and by_slug[q.slug].override is not None,
        )
        for q in assignment.questions.all()
    )


class _Book:
    """What the rows of one course share: its assignments, categories and the policies per
    level (computed once per level)."""

    def __init__(self, course_id: int, now: datetime) -> None:
        self.assignments = list(course_assignments(course_id))
        self.categories = _category_policies(course_id)
        self.released = {a.pk: grades_released(a, now) for a in self.assignments}
        self._policies: dict[str | None, tuple[list[gradebook.AssignmentPolicy], ...]] = {}

    def policies(self, level: str | None) -> tuple[list[gradebook.AssignmentPolicy], ...]:
        """At a level: the policies as released, and as if all were (for staff's cells)."""
        if level not in self._policies:
            self._policies[level] = (
                [
                    _assignment_policy(a, level, released=self.released[a.pk])
                    for a in self.assignments
                ],
                [_assignment_policy(a, level, released=True) for a in self.assignments],
            )
        return self._policies[level]

    def row(self, enrollment: Enrollment, grades: GradesByAssignment) -> StudentRow:
        actual, every = self.policies(_level(enrollment))
        scores = {}
        for a in self.assignments:
            points, excused = student_points(grades.get(a.pk, []))
            scores[a.slug] = gradebook.Score(points=points, excused=excused)
        report = gradebook.final_grade(self.categories, actual, scores)
        whole = gradebook.final_grade(self.categories, every, scores)
        cells = tuple(
            self._cell(a, whole.assignment(a.slug), scores[a.slug], grades.get(a.pk, []))
            for a in self.assignments
        )
        return StudentRow(enrollment=enrollment, cells=cells, report=report)

    def _cell(
        self,
        a: Assignment,
        grade: gradebook.AssignmentGrade,
        score: gradebook.Score,
        rows: list[Grade],
    ) -> GradeCell:
        released = self.released[a.pk]
        ungraded = score.points is None and not score.excused
        return GradeCell(
            assignment=a,
            released=released,
            points=None if ungraded and not released else grade.points,
            max_points=grade.max_points,
            extra_credit_points=grade.extra_credit_points,
            percent=None if ungraded and not released else grade.percent,
            excused=grade.excused,
            missing=grade.missing and released,
            needs_review=any(g.needs_review for g in rows),
            questions=_questions(a, rows),
        )


def grade_rows(*, course_id: int, students: list[Enrollment], now: datetime) -> list[StudentRow]:
    """The grades of these students (enrollments with their user and section), in their
    order. Five queries however many students, assignments and grades."""
    book = _Book(course_id, now)
    grades = _grades_of(course_id, [e.user_id for e in students])
    return [book.row(e, grades.get(e.user_id, {})) for e in students]


# --- a student's own grades ------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentScore:
    """A released assignment on a student's grade page."""

    assignment: Assignment
    grade: GradeCell
    regrade_window_closes_at: datetime | None

    @property
    def questions(self) -> tuple[QuestionCell, ...]:
        return self.grade.questions


@dataclass(frozen=True)
class StudentGrades:
    report: gradebook.GradeReport
    assignments: list[AssignmentScore]


def own_row(*, enrollment: Enrollment, now: datetime) -> StudentRow:
    """A student's (or waitlisted student's) own row; staff and sit-ins have none: 404."""
    if enrollment.role not in SUBMITTING_ROLES:
        raise NotFound(
            "Only students have grades in a course; staff read the gradebook "
            "(gradebook.csv) and each assignment's grades."
        )
    return grade_rows(course_id=enrollment.course_id, students=[enrollment], now=now)[0]


def student_grades(*, enrollment: Enrollment, now: datetime) -> StudentGrades:
    """A student's own grades: the assignments whose grades are released, per category, the
    weighted final percent and the readiness flag (:func:`grade_rows`)."""
    row = own_row(enrollment=enrollment, now=now)
    return StudentGrades(
        report=row.report,
        assignments=[
            AssignmentScore(
                assignment=c.assignment,
                grade=c,
                regrade_window_closes_at=regrade_window_closes_at(c.assignment),
            )
            for c in row.cells
            if c.released
        ],
    )


def released_cells(*, enrollment: Enrollment, now: datetime) -> dict[str, GradeCell]:
    """A student's released grades by assignment slug (the assignment list's ``my_grade``);
    empty for anyone without grades."""
    if enrollment.role not in SUBMITTING_ROLES:
        return {}
    row = own_row(enrollment=enrollment, now=now)
    return {c.assignment.slug: c for c in row.cells if c.released}


# --- the staff gradebook ---------------------------------------------------------------------


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
class GradebookPage:
    count: int
    rows: list[StudentRow]
    assignments: list[Assignment]


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
    return GradebookPage(count=count, rows=rows, assignments=assignments)


def gradebook_export(
    *, enrollment: Enrollment, now: datetime, section: str | None = None
) -> tuple[list[export.ExportRow], list[export.ExportAssignment]]:
    """Staff: the course's gradebook for :func:`grading.export.canvas_csv` (of one section
    with ``section``). One row per student and waitlisted student; one column per assignment,
    released or not, with the points of :func:`grade_rows`. ``Points Possible`` is the
    section's level's maximum (without a section, the larger of the two levels')."""
    staff_check(enrollment)
    course_id = enrollment.course_id
    students = list(_filtered(_roster(course_id), section=section, search=None))
    rows = grade_rows(course_id=course_id, students=students, now=now)
    assignments = list(course_assignments(course_id))
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
