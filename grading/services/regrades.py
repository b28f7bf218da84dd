"""Writes of regrade requests: a student asks while the regrade window is open; staff
resolve a request once, setting the question's grade through
:func:`grading.services.grades.grade_set`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from courses import deadlines
from courses.models import STAFF_ROLES, SUBMITTING_ROLES, Assignment, Enrollment, GroupMembership
from grading import notifications
from grading.errors import InvalidField
from grading.models import GradeChange, RegradeRequest
from grading.selectors.regrades import regrade_assignee, regrade_window_closes_at
from grading.services.grades import grade_set, graded_students, question_check
from portal.errors import ApplicationError, NotFound, PermissionDeniedError
from submissions.models import Submission


def _requester_check(*, enrollment: Enrollment, submission: Submission) -> None:
    """Only the student who handed the work in, or a member of its group, asks."""
    own = submission.student_id == enrollment.user_id or (
        submission.group_id is not None
        and GroupMembership.objects.filter(
            group_id=submission.group_id, user_id=enrollment.user_id
        ).exists()
    )
    if submission.course_id != enrollment.course_id or not (
        own and enrollment.role in SUBMITTING_ROLES
    ):
        raise PermissionDeniedError(
            "Only the student who handed this work in (or a member of its group) can ask "
            "for a regrade."
        )


def _regrade_window_check(*, assignment: Assignment, now: datetime) -> None:
    """The window is open from the release of the assignment's grades until
    ``course.regrade_days`` days later, that last instant included."""
    released = assignment.grades_released_at
    if released is None or released > now:
        raise ApplicationError(
            f"The grades of {assignment.title} are not released yet; regrade requests open "
            "when they are.",
            code="grades_not_released",
            status=409,
        )
    closes = regrade_window_closes_at(assignment)
    assert closes is not None
    if now > closes:
        tz = deadlines.zone(assignment.course.timezone)
        raise ApplicationError(
            f"The regrade window for {assignment.title} closed "
            f"{closes.astimezone(tz):%a %b %-d %Y, %-I:%M %p %Z}.",
            code="regrade_window_closed",
            status=409,
        )


def regrade_request_create(
    *,
    enrollment: Enrollment,
    submission: Submission,
    question: str,
    message: str,
    now: datetime,
) -> RegradeRequest:
    """A student asks for a regrade of their (or their group's) submission, on one question
    or ("") the whole assignment, while the regrade window is open: from the release of the
    assignment's grades until ``course.regrade_days`` days later, that last instant included.
    Its grader (or the course's TAs) get an email once it commits."""
    _requester_check(enrollment=enrollment, submission=submission)
    assignment = submission.assignment
    message = message.strip()
    if not message:
        raise InvalidField("message", "Say what should be regraded, and why.")
    question_check(assignment=assignment, question=question)
    _regrade_window_check(assignment=assignment, now=now)
    with transaction.atomic():
        request = RegradeRequest.objects.create(
            submission=submission,
            student_id=enrollment.user_id,
            question=question,
            message=message,
        )
        assignee = regrade_assignee(request)
        if assignee is not None:
            request.assigned_to = assignee
            request.save(update_fields=["assigned_to"])
        notifications.regrade_opened(request_id=request.pk)
    return request


def _regrade_request_lock(*, enrollment: Enrollment, request_id: int) -> RegradeRequest:
    """The open request, locked, for staff of its course (in the caller's transaction)."""
    request = (
        RegradeRequest.objects.select_for_update(of=("self",))
        .select_related("submission__assignment__course", "submission__student", "student")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound("There is no such regrade request.")
    submission = request.submission
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != submission.course_id:
        raise PermissionDeniedError("Only the course's TAs and instructors resolve regrades.")
    if request.status == RegradeRequest.Status.RESOLVED:
        raise ApplicationError(
            "This regrade request is already resolved.", code="already_resolved", status=409
        )
    return request


def regrade_request_resolve(
    *,
    enrollment: Enrollment,
    request_id: int,
    response: str,
    score: Decimal | None,
    now: datetime,
) -> RegradeRequest:
    """Staff answer a regrade request. With ``score``, the request's question gets it as an
    override (within the question's points: ``points_out_of_range`` otherwise) for the
    requesting student, and for every member of the group for group work, through
    :func:`grade_set` (source "regrade"), so the history keeps the earlier points. On an
    assignment with questions, a request about the whole assignment is answered per question
    (set the questions' grades), so it takes no ``score``. A request is resolved once; the
    student gets an email with the answer once it commits."""
    response = response.strip()
    if not response:
        raise InvalidField("response", "Write a response to the student.")
    with transaction.atomic():
        request = _regrade_request_lock(enrollment=enrollment, request_id=request_id)
        submission = request.submission
        if score is not None:
            _score_on(enrollment, request, submission, score)
        request.status = RegradeRequest.Status.RESOLVED
        request.response = response
        request.resolved_by = enrollment.user
        request.resolved_at = now
        request.save(update_fields=["status", "response", "resolved_by", "resolved_at"])
        notifications.regrade_answered(request_id=request.pk)
    return request


def _score_on(
    enrollment: Enrollment, request: RegradeRequest, submission: Submission, score: Decimal
) -> None:
    assignment = submission.assignment
    if request.question == "" and assignment.questions.exists():
        raise InvalidField(
            "score",
            f"This request is about the whole of {assignment.title}, which is graded by "
            "question: set the questions' grades, then resolve it without a score.",
        )
    students = graded_students(submission) if submission.group_id else [request.student]
    for student in students:
        grade_set(
            by=enrollment,
            assignment=assignment,
            student=student,
            question=request.question,
            points=score,
            source=GradeChange.Source.REGRADE,
            regrade_request=request,
        )
