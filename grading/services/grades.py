"""Writes of grades: a grade set by staff (or the autograder's result, or a regrade) with its
history, the checks of a question and of points, and the release of an assignment's grades."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction

from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Enrollment,
    GroupMembership,
    Role,
)
from grading.errors import InvalidField
from grading.models import Grade, GradeChange, GradingJob, RegradeRequest
from portal.errors import ApplicationError, PermissionDeniedError
from submissions.models import Submission
from submissions.selectors import counting_ids

# A grade fits Grade.points: eight digits, two after the point.
MAX_POINTS = Decimal("999999.99")
HUMAN_SOURCES = frozenset({GradeChange.Source.STAFF, GradeChange.Source.REGRADE})


def question_check(*, assignment: Assignment, question: str) -> None:
    """``question`` is "" (the whole assignment) or one of the assignment's question slugs."""
    if question == "":
        return
    slugs = list(assignment.questions.order_by("position").values_list("slug", flat=True))
    if question not in slugs:
        known = ", ".join(f"'{s}'" for s in slugs) or "none: leave it empty"
        raise InvalidField(
            "question",
            f"'{question}' is not a question of {assignment.title} (its questions: {known}).",
        )


def _points_check(points: Decimal | None) -> Decimal | None:
    if points is None:
        return None
    if not isinstance(points, Decimal):  # an int or float from a caller's code
        points = Decimal(str(points))
    if not points.is_finite() or points < 0 or points > MAX_POINTS:
        raise InvalidField(
            "points",
            f"Points must be a number from 0 to {MAX_POINTS}; {points} is not.",
        )
    return points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _grade_input_check(
    *,
    by: Enrollment | None,
    assignment: Assignment,
    student: User,
    question: str,
    points: Decimal | None,
    source: str,
) -> Decimal | None:
    """The checks of :func:`grade_set`, in this order: a person who sets a grade is staff of
    the assignment's course; the source is known; the question is the assignment's; the
    points fit; a person grades only a student (or waitlisted student) of the course. Returns
    the points rounded to cents."""
    if by is not None and (by.role not in STAFF_ROLES or by.course_id != assignment.course_id):
        raise PermissionDeniedError("Only the course's TAs and instructors set grades.")
    if source not in GradeChange.Source.values:
        raise ValueError(f"unknown grade source {source!r}")
    question_check(assignment=assignment, question=question)
    checked = _points_check(points)
    if (
        by is not None
        and not Enrollment.objects.filter(
            course_id=assignment.course_id,
            user_id=student.pk,
            role__in=sorted(SUBMITTING_ROLES),
        ).exists()
    ):
        raise ApplicationError(
            f"{student.username} is not a student of this course.", code="unknown_student"
        )
    return checked


def grade_set(
    *,
    by: Enrollment | None,
    assignment: Assignment,
    student: User,
    question: str = "",
    points: Decimal | None,
    source: str,
    regrade_request: RegradeRequest | None = None,
    job: GradingJob | None = None,
) -> Grade:
    """Sets a student's grade on an assignment (or one of its questions) and keeps the change
    in the grade's history: old and new points, source, who. No change row when the points
    stay the same. ``by`` is the staff member's enrollment, or None for the system (the
    autograder). A grade a person has set (source staff or regrade) is never overwritten by
    the autograder: its result is still stored with the job, the grade keeps the person's."""
    points = _grade_input_check(
        by=by,
        assignment=assignment,
        student=student,
        question=question,
        points=points,
        source=source,
    )
    with transaction.atomic():
        grade, _ = Grade.objects.select_for_update().get_or_create(
            assignment=assignment, student=student, question=question
        )
        if (
            source == GradeChange.Source.AUTOGRADER
            and grade.changes.filter(source__in=sorted(HUMAN_SOURCES)).exists()
        ):
            return grade
        old = grade.points
        if old == points:
            return grade
        grade.points = points
        grade.save(update_fields=["points", "updated_at"])
        GradeChange.objects.create(
            grade=grade,
            old_points=old,
            new_points=points,
            source=source,
            changed_by=by.user if by is not None else None,
            regrade_request=regrade_request,
            job=job,
        )
    return grade


def graded_students(submission: Submission) -> list[User]:
    """Whose grade a submission decides: the submitter, or every member of its group."""
    if submission.group_id:
        return [
            m.user
            for m in GroupMembership.objects.filter(group_id=submission.group_id)
            .select_related("user")
            .order_by("user__username")
        ]
    return [submission.student]


def grades_from_result(*, job_id: int) -> list[Grade]:
    """The autograder hook (called by :func:`grading.services.jobs.job_finish` in its
    transaction): when the job's submission is the one that counts for its owner, its score
    becomes the whole-assignment grade of the student (of every group member for group
    work), source "autograder"."""
    job = GradingJob.objects.select_related(
        "result", "submission__assignment", "submission__student"
    ).get(pk=job_id)
    result = getattr(job, "result", None)
    if result is None or result.score is None:
        return []
    submission = job.submission
    if submission.pk not in counting_ids(submissions=[submission]):
        return []
    points = min(max(Decimal(str(result.score)), Decimal(0)), MAX_POINTS)
    return [
        grade_set(
            by=None,
            assignment=submission.assignment,
            student=student,
            points=points,
            source=GradeChange.Source.AUTOGRADER,
            job=job,
        )
        for student in graded_students(submission)
    ]


def grades_release(*, enrollment: Enrollment, assignment: Assignment, now: datetime) -> Assignment:
    """The instructor releases an assignment's grades to its students; the regrade window
    starts. Releasing again changes nothing: the first time stays."""
    if enrollment.role != Role.INSTRUCTOR or enrollment.course_id != assignment.course_id:
        raise PermissionDeniedError("Only the instructor releases grades.")
    with transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk, grades_released_at__isnull=True).update(
            grades_released_at=now
        )
        assignment.grades_released_at = (
            Assignment.objects.filter(pk=assignment.pk)
            .values_list("grades_released_at", flat=True)
            .get()
        )
    return assignment
