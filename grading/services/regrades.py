"""Writes of regrade requests: a student asks while the regrade window is open (the grade as
it stands is kept on the request); staff resolve a request once, through the rubric and
adjustment of its question (:func:`grading.services.rubrics.evaluation_set`) or with a score
(an override, :func:`grading.services.grades.grade_set`), and the grade as it then stands is
kept beside the first, so the student sees what changed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from courses import deadlines
from courses.models import STAFF_ROLES, SUBMITTING_ROLES, Assignment, Enrollment, GroupMembership
from grading import notifications
from grading.errors import InvalidField
from grading.models import GradeChange, RegradeRequest
from grading.selectors.grades import question_specs
from grading.selectors.regrades import regrade_assignee, regrade_window_closes_at
from grading.selectors.rubrics import evaluation_snapshot
from grading.services.grades import grade_set, graded_students, question_check
from grading.services.rubrics import QuestionEvaluation, evaluation_set
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
            evaluation_before=_snapshot(submission, enrollment.user_id, question),
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


def _snapshot(
    submission: Submission, student_id: int, question: str
) -> dict[str, dict[str, object]]:
    """The student's grade on the request's question; on every question for a request about
    the whole of an assignment graded by question."""
    assignment = submission.assignment
    slugs = [question] if question else [q.slug for q in question_specs(assignment)]
    return evaluation_snapshot(assignment=assignment, student_id=student_id, questions=slugs)


def _evaluation_check(
    request: RegradeRequest, questions: dict[str, QuestionEvaluation], score: Decimal | None
) -> None:
    """A resolution through the rubric is about the request's question (any question for a
    request about the whole assignment), and not also a score."""
    if score is not None and questions:
        raise InvalidField(
            "score",
            "Resolve either through the rubric and adjustment or with a score, not both.",
        )
    others = sorted(slug for slug in questions if request.question and slug != request.question)
    if others:
        raise InvalidField(
            "questions",
            f"This request is about {request.question}; resolve it on that question, "
            f"not {', '.join(others)}.",
        )


def regrade_request_resolve(
    *,
    enrollment: Enrollment,
    request_id: int,
    response: str,
    score: Decimal | None = None,
    questions: dict[str, QuestionEvaluation] | None = None,
    now: datetime,
) -> RegradeRequest:
    """Staff answer a regrade request. With ``questions``, the question's evaluation (rubric
    items applied, adjustment, comment) is set as on the grading page, for the requester
    and every member of a group (an override on it is removed: the rubric is the grade),
    through :func:`evaluation_set` (source "regrade"). With ``score``, the request's
    question gets it as an override (within the question's points: ``points_out_of_range``
    otherwise) through :func:`grade_set`. On an assignment with questions, a request about
    the whole assignment takes no ``score`` (answer it per question). Either way the history
    keeps the earlier points, and the grade as it stands after is kept on the request beside
    the grade when it was asked. A request is resolved once; the student gets an email with
    the answer once it commits."""
    response = response.strip()
    if not response:
        raise InvalidField("response", "Write a response to the student.")
    with transaction.atomic():
        request = _regrade_request_lock(enrollment=enrollment, request_id=request_id)
        submission = request.submission
        _evaluation_check(request, questions or {}, score)
        if questions:
            evaluation_set(
                by=enrollment,
                submission=submission,
                questions=questions,
                regrade_request=request,
            )
        elif score is not None:
            _score_on(enrollment, request, submission, score)
        request.status = RegradeRequest.Status.RESOLVED
        request.response = response
        request.resolved_by = enrollment.user
        request.resolved_at = now
        request.evaluation_after = _snapshot(submission, request.student_id, request.question)
        request.save(
            update_fields=["status", "response", "resolved_by", "resolved_at", "evaluation_after"]
        )
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
