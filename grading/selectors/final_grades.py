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
from typing import NamedTuple

from django.db import connections
from django.db.models import Prefetch, QuerySet

from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Category,
    Enrollment,
    Question,
    Requirement,
    Role,
)
from courses.selectors import extra_credit_points, max_points
from grading import gradebook
from grading.models import Grade
from grading.selectors.grades import grades_released, student_points
from grading.selectors.jobs import latest_result
from grading.selectors.regrades import regrade_window_closes_at
from portal.errors import NotFound
from submissions.models import Submission
from submissions.selectors import counting_submissions

# A student's grade rows, by assignment id.
GradesByAssignment = dict[int, list["GradeRow"]]


class QuestionCell(NamedTuple):
    """One question of a student's grade: its points (None: ungraded), its maximum, and
    whether staff override it (the page says so). A named tuple: a page of 1,000 students
    holds 60,000 of them."""

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


def level_of(enrollment: Enrollment) -> str | None:
    """The student's level (their section's); None without a section."""
    return enrollment.section.level if enrollment.section is not None else None


# Above this many students, their grades are read for the whole course (no list of ids).
IN_LIST_MAX = 1000


class GradeRow(NamedTuple):
    """What reading grades needs of a grade row (lighter than the model, and quicker to
    make than a dataclass: a course has 600,000 of them)."""

    question: str
    points: Decimal | None
    excused: bool
    override: Decimal | None
    needs_review: bool


def _grades_of(
    course_id: int, user_ids: Iterable[int], assignment_ids: list[int] | None = None
) -> dict[int, GradesByAssignment]:
    """The students' grade rows in the course (on these assignments only, with
    ``assignment_ids``), by student id and assignment id. One query."""
    by_student: dict[int, GradesByAssignment] = {}
    wanted = set(user_ids)
    if not wanted or assignment_ids == []:
        return by_student  # (SQL would be refused: an empty IN)
    grades = Grade.objects.filter(assignment__course_id=course_id)
    if len(wanted) <= IN_LIST_MAX:
        grades = grades.filter(student_id__in=wanted)
    # Else the whole course's rows, the others skipped: cheaper than sending 10,000 ids.
    if assignment_ids is not None:
        grades = grades.filter(assignment_id__in=assignment_ids)
    query = grades.order_by("question").values_list(
        "student_id",
        "assignment_id",
        "question",
        "points",
        "excused",
        "override",
        "needs_review",
    )
    # The rows as the driver gives them (no field converts these columns): 600,000 of them
    # through the queryset's iterator would cost a second.
    sql, params = query.query.sql_with_params()
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for student_id, assignment_id, *row in rows:
        if student_id in wanted:
            by_student.setdefault(student_id, {}).setdefault(assignment_id, []).append(
                GradeRow._make(row)
            )
    return by_student


def _questions(offered: list[Question], rows: list[GradeRow]) -> tuple[QuestionCell, ...]:
    by_slug = {g.question: g for g in rows}
    return tuple(
        QuestionCell(
            slug=q.slug,
            title=q.shown,
            points=by_slug[q.slug].points if q.slug in by_slug else None,
            max_points=q.points,
            overridden=q.slug in by_slug and by_slug[q.slug].override is not None,
        )
        for q in offered
    )


class _Book:
    """What the rows of one course share: its assignments, categories and the policies per
    level (computed once per level)."""

    def __init__(self, course_id: int, now: datetime, only: set[str] | None = None) -> None:
        self.assignments = [
            a for a in course_assignments(course_id) if only is None or a.slug in only
        ]
        self.categories = _category_policies(course_id)
        self.released = {a.id: grades_released(a, now) for a in self.assignments}
        self._policies: dict[str | None, list[gradebook.AssignmentPolicy]] = {}
        self._skipped: dict[tuple[int, str], frozenset[str]] = {}
        self._offered: dict[tuple[int, str | None], list[Question]] = {}

    def policies(self, level: str | None) -> list[gradebook.AssignmentPolicy]:
        """The assignments' policies at a level (computed once per level)."""
        if level not in self._policies:
            self._policies[level] = [
                _assignment_policy(a, level, released=self.released[a.id]) for a in self.assignments
            ]
        return self._policies[level]

    def offered(self, a: Assignment, level: str | None, rows: list[GradeRow]) -> list[GradeRow]:
        """The rows of the questions offered at the level: a question ``not_offered`` there
        counts for nothing, whatever the autograder gave it."""
        if level is None or not rows:
            return rows
        key = (a.id, level)
        skip = self._skipped.get(key)
        if skip is None:
            skip = self._skipped[key] = frozenset(
                q.slug
                for q in a.questions.all()
                if q.requirement_for(level) == Requirement.NOT_OFFERED
            )
        return [g for g in rows if g.question not in skip] if skip else rows

    def offered_questions(self, a: Assignment, level: str | None) -> list[Question]:
        """The assignment's questions offered at the level, in order (computed once)."""
        key = (a.id, level)
        if key not in self._offered:
            self._offered[key] = [
                q
                for q in a.questions.all()
                if level is None or q.requirement_for(level) != Requirement.NOT_OFFERED
            ]
        return self._offered[key]

    def row(
        self, enrollment: Enrollment, grades: GradesByAssignment, *, questions: bool = True
    ) -> StudentRow:
        """The student's row; without ``questions`` its cells carry no question cells (what
        sorting and filtering everyone needs: the same points, percents and flags)."""
        level = level_of(enrollment)
        policies = self.policies(level)
        grades = {a.id: self.offered(a, level, grades.get(a.id, [])) for a in self.assignments}
        scores = {}
        for a in self.assignments:
            points, excused = student_points(grades.get(a.id, []))
            scores[a.slug] = gradebook.Score(points=points, excused=excused)
        enrolled = enrollment.role != Role.WAITLISTED
        report = gradebook.final_grade(self.categories, policies, scores, enrolled=enrolled)
        released = {g.slug: g for g in report.assignments}
        cells = tuple(
            self._cell(
                a,
                # The report's own grade once released; the same rule for staff before.
                released.get(a.slug)
                or gradebook.assignment_grade(p, scores[a.slug], enrolled=enrolled),
                scores[a.slug],
                grades.get(a.id, []),
                level,
                questions=questions,
            )
            for a, p in zip(self.assignments, policies, strict=True)
        )
        return StudentRow(enrollment=enrollment, cells=cells, report=report)

    def _cell(
        self,
        a: Assignment,
        grade: gradebook.AssignmentGrade,
        score: gradebook.Score,
        rows: list[GradeRow],
        level: str | None,
        *,
        questions: bool = True,
    ) -> GradeCell:
        released = self.released[a.id]
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
            questions=_questions(self.offered_questions(a, level), rows) if questions else (),
        )


def grade_rows(
    *,
    course_id: int,
    students: list[Enrollment],
    now: datetime,
    questions: bool = True,
    only: set[str] | None = None,
) -> list[StudentRow]:
    """The grades of these students (enrollments with their user and section), in their
    order. Five queries however many students, assignments and grades.

    What sorting and filtering a whole course needs, at less cost: without ``questions``
    the cells carry no question cells (``questions == ()``), every other number the same;
    with ``only`` (assignment slugs) the rows are partial: cells of those assignments only,
    and a report over them alone. A partial row's cells are the full row's (an assignment's
    grade depends on its own grades only), and so are the percents of the categories whose
    assignments are all in ``only`` and the readiness flag when every assignment with a
    readiness threshold is; its final percent is not the student's: read only those."""
    book = _Book(course_id, now, only)
    grades = _grades_of(
        course_id,
        [e.user_id for e in students],
        None if only is None else [a.pk for a in book.assignments],
    )
    return [book.row(e, grades.get(e.user_id, {}), questions=questions) for e in students]


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


# --- a submission's grade, on its receipt ----------------------------------------------------


@dataclass(frozen=True)
class SubmissionGrade:
    """The receipt's grade: the owner's grade on the assignment (the submitter's; every
    member of a group has the same), which submission counts, and for staff the question
    rows' parts and the counting result awaiting review (its job, to accept)."""

    cell: GradeCell
    counting_number: int | None
    staff: bool
    parts: dict[str, Grade]
    review_job_id: int | None
    review_reasons: list[str]


def submission_grade(
    *, enrollment: Enrollment, submission: Submission, now: datetime
) -> SubmissionGrade | None:
    """For whoever may see the submission: staff always; its owner (and group) once the
    assignment's grades are released; None otherwise."""
    staff = enrollment.role in STAFF_ROLES
    assignment = submission.assignment
    if not staff and not grades_released(assignment, now):
        return None
    owner = (
        Enrollment.objects.filter(course_id=submission.course_id, user_id=submission.student_id)
        .select_related("user", "section")
        .first()
    )
    if owner is None or owner.role not in SUBMITTING_ROLES:
        return None
    row = grade_rows(course_id=submission.course_id, students=[owner], now=now)[0]
    counting = counting_submissions(assignment=assignment, user_ids=[owner.user_id])[owner.user_id]
    result = latest_result(counting) if staff and counting is not None else None
    waiting = result is not None and bool(result.review) and result.accepted_at is None
    return SubmissionGrade(
        cell=row.cell(assignment.slug),
        counting_number=counting.number if counting is not None else None,
        staff=staff,
        parts=(
            {
                g.question: g
                for g in Grade.objects.filter(assignment=assignment, student_id=owner.user_id)
            }
            if staff
            else {}
        ),
        review_job_id=result.job_id if waiting and result is not None else None,
        review_reasons=list(result.review) if waiting and result is not None else [],
    )
