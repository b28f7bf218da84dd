"""Reads that put grades through the gradebook policy (:mod:`grading.gradebook`): a
student's own grades with their final percent, and the staff gradebook export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from courses.models import SUBMITTING_ROLES, Assignment, Category, Enrollment, Question
from courses.selectors import extra_credit_points, max_points
from grading import export, gradebook
from grading.models import Grade
from grading.selectors.grades import grades_released, staff_check, student_points
from grading.selectors.regrades import regrade_window_closes_at
from portal.errors import NotFound

# A student's grade rows, by assignment id.
GradesByAssignment = dict[int, list[Grade]]


@dataclass(frozen=True)
class AssignmentScore:
    """A released assignment on a student's grade page: the gradebook's result for it, when
    its grades were released, and the student's per-question grades."""

    assignment: Assignment
    grade: gradebook.AssignmentGrade
    regrade_window_closes_at: datetime | None
    questions: list[tuple[str, Decimal | None]]


@dataclass(frozen=True)
class StudentGrades:
    report: gradebook.GradeReport
    assignments: list[AssignmentScore]


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


def _assignments_with_questions(course_id: int) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(course_id=course_id)
        .select_related("course", "category")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .order_by("position", "due_at", "slug")
    )


def _score(grades: list[Grade]) -> gradebook.Score:
    points, excused = student_points(grades)
    return gradebook.Score(points=points, excused=excused)


def _level(enrollment: Enrollment) -> str | None:
    return enrollment.section.level if enrollment.section is not None else None


def student_grades(*, enrollment: Enrollment, now: datetime) -> StudentGrades:
    """A student's (or waitlisted student's) own grades: the assignments whose grades are
    released, with their points at the student's level, per category, the weighted final
    percent and the readiness flag, by :func:`grading.gradebook.final_grade`. Staff and
    sit-ins have no grades: 404. Five queries however many assignments and grades."""
    if enrollment.role not in SUBMITTING_ROLES:
        raise NotFound(
            "Only students have grades in a course; staff read the gradebook "
            "(gradebook.csv) and each assignment's grades."
        )
    level = _level(enrollment)
    assignments = list(
        _assignments_with_questions(enrollment.course_id).filter(grades_released_at__lte=now)
    )
    grades: GradesByAssignment = {}
    for g in Grade.objects.filter(
        student_id=enrollment.user_id, assignment__in=[a.pk for a in assignments]
    ).order_by("question"):
        grades.setdefault(g.assignment_id, []).append(g)
    report = gradebook.final_grade(
        _category_policies(enrollment.course_id),
        [_assignment_policy(a, level, released=True) for a in assignments],
        {a.slug: _score(grades.get(a.pk, [])) for a in assignments},
    )
    by_slug = {g.slug: g for g in report.assignments}
    return StudentGrades(
        report=report,
        assignments=[
            AssignmentScore(
                assignment=a,
                grade=by_slug[a.slug],
                regrade_window_closes_at=regrade_window_closes_at(a),
                questions=[(g.question, g.points) for g in grades.get(a.pk, []) if g.question],
            )
            for a in assignments
        ],
    )


def _course_grades(course_id: int, students: list[Enrollment]) -> dict[int, GradesByAssignment]:
    """The students' grade rows in the course, by student id and assignment id. One query."""
    by_student: dict[int, GradesByAssignment] = {}
    for g in Grade.objects.filter(
        assignment__course_id=course_id, student_id__in=[e.user_id for e in students]
    ).order_by("question"):
        by_student.setdefault(g.student_id, {}).setdefault(g.assignment_id, []).append(g)
    return by_student


def _export_row(
    student: Enrollment,
    grades: GradesByAssignment,
    assignments: list[Assignment],
    categories: list[gradebook.CategoryPolicy],
    policies: list[gradebook.AssignmentPolicy],
) -> export.ExportRow:
    """One student's gradebook row; ``policies`` are the assignments' at the student's level."""
    scores = {a.slug: _score(grades.get(a.pk, [])) for a in assignments}
    report = gradebook.final_grade(categories, policies, scores)
    user = student.user
    return export.ExportRow(
        last_name=user.last_name,
        first_name=user.first_name,
        user_id=student.user_id,
        username=user.username,
        email=user.email,
        section=student.section.code if student.section is not None else "",
        scores=scores,
        final_percent=report.final_percent,
    )


def gradebook_export(
    *, enrollment: Enrollment, now: datetime
) -> tuple[list[export.ExportRow], list[export.ExportAssignment]]:
    """Staff: the course's gradebook for :func:`grading.export.canvas_csv`. One row per
    student and waitlisted student (by last name, first name, username); one column per
    assignment, released or not, with the points the student has (empty when ungraded, EX when
    excused); ``Points Possible`` is the larger of the two levels' maxima. The final percent
    is the one the student sees: only released grades count, at the student's level. Six
    queries however many students, assignments and grades."""
    staff_check(enrollment)
    course_id = enrollment.course_id
    students = list(
        Enrollment.objects.filter(course_id=course_id, role__in=sorted(SUBMITTING_ROLES))
        .select_related("user", "section")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    assignments = list(_assignments_with_questions(course_id))
    categories = _category_policies(course_id)
    grades = _course_grades(course_id, students)
    policies: dict[str | None, list[gradebook.AssignmentPolicy]] = {}
    rows = []
    for e in students:
        level = _level(e)
        if level not in policies:
            policies[level] = [
                _assignment_policy(a, level, released=grades_released(a, now)) for a in assignments
            ]
        rows.append(
            _export_row(e, grades.get(e.user_id, {}), assignments, categories, policies[level])
        )
    columns = [
        export.ExportAssignment(
            id=a.slug,
            title=a.title,
            points_possible=max_points(list(a.questions.all()), None, a.points),
        )
        for a in assignments
    ]
    return rows, columns
