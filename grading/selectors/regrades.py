"""Reads of regrade requests: the regrade window, the staff list, one request for whoever may
see it, its thread of messages, who it is assigned to, and the receipt's regrade panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Count, QuerySet

from courses import deadlines
from courses.anonymity import StudentNames, student_names
from courses.models import STAFF_ROLES, SUBMITTING_ROLES, Assignment, Enrollment, GroupMembership
from courses.selectors import course_tz
from grading.errors import InvalidField
from grading.models import GraderAssignment, RegradeMessage, RegradeRequest
from grading.selectors.grades import grades_released, staff_check
from grading.selectors.regrade_changes import AsApplied, QuestionChange, as_applied, regrade_changes
from portal.errors import NotFound
from submissions.models import Submission


def regrade_window_closes_at(assignment: Assignment) -> datetime | None:
    """The last instant a regrade request is taken: ``course.regrade_days`` calendar days
    after the grades were released, at the same local clock time in the course's zone
    (None before the release). A request at that very instant is still taken."""
    released = assignment.grades_released_at
    if released is None:
        return None
    course = assignment.course
    return deadlines.grace_end(released, course.regrade_days, course_tz(course))


def regrade_assignee(request: RegradeRequest) -> User | None:
    """The staff member a new regrade request is assigned to: the grader whose share of the
    assignment (GraderAssignment) covers the request's question and the requester's section,
    the first named; None when no share covers it (staff assign it from the list). Two
    queries."""
    submission = request.submission
    section = (
        Enrollment.objects.filter(course_id=submission.course_id, user_id=request.student_id)
        .values_list("section__code", flat=True)
        .first()
    )
    shares = GraderAssignment.objects.filter(assignment_id=submission.assignment_id).select_related(
        "grader"
    )
    return next(
        (
            s.grader
            for s in shares.order_by("pk")
            if s.covers(section=section, question=request.question)
        ),
        None,
    )


def _regrade_requests() -> QuerySet[RegradeRequest]:
    """With ``message_count``, the number of messages in the request's thread."""
    return RegradeRequest.objects.select_related(
        "submission__assignment__course", "student", "resolved_by", "assigned_to"
    ).annotate(message_count=Count("messages"))


def regrade_request_list(
    *,
    enrollment: Enrollment,
    status: str | None = None,
    assignment_slug: str | None = None,
    assigned_to_id: int | None = None,
) -> QuerySet[RegradeRequest]:
    """Staff: the course's regrade requests, newest first, by ``status`` (open, resolved),
    assignment slug and the id of the staff member they are assigned to. One query however
    many requests (and one for the assignment filter)."""
    staff_check(enrollment)
    qs = _regrade_requests().filter(submission__course_id=enrollment.course_id)
    if assigned_to_id is not None:
        qs = qs.filter(assigned_to_id=assigned_to_id)
    if status:
        if status not in RegradeRequest.Status.values:
            raise InvalidField("status", f"status must be open or resolved, not '{status}'.")
        qs = qs.filter(status=status)
    if assignment_slug:
        assignment_id = (
            Assignment.objects.filter(course_id=enrollment.course_id, slug=assignment_slug)
            .values_list("pk", flat=True)
            .first()
        )
        if assignment_id is None:
            raise InvalidField(
                "assignment", f"'{assignment_slug}' is not an assignment of this course."
            )
        qs = qs.filter(submission__assignment_id=assignment_id)
    return qs.order_by("-created_at", "-pk")


def regrade_request_may_see(enrollment: Enrollment, request: RegradeRequest) -> bool:
    """Staff of the course, the requester, the submitter and the submission's group see a
    request (and write in its thread while it is open)."""
    submission = request.submission
    user_id = enrollment.user_id
    return enrollment.course_id == submission.course_id and (
        enrollment.role in STAFF_ROLES
        or request.student_id == user_id
        or submission.student_id == user_id
        or (
            submission.group_id is not None
            and GroupMembership.objects.filter(
                group_id=submission.group_id, user_id=user_id
            ).exists()
        )
    )


def regrade_request_get(
    *, user: AbstractBaseUser | AnonymousUser, request_id: int
) -> tuple[RegradeRequest, Enrollment]:
    """One regrade request, for whoever may see its submission: the requester (and the
    members of the submission's group) and the course's staff; anyone else gets 404."""
    if not user.is_authenticated:
        raise NotFound("There is no such regrade request.")
    request = _regrade_requests().filter(pk=request_id).first()
    if request is None:
        raise NotFound("There is no such regrade request.")
    enrollment = (
        Enrollment.objects.filter(course_id=request.submission.course_id, user_id=user.pk)
        .select_related("course", "section", "user")
        .first()
    )
    if enrollment is None or not regrade_request_may_see(enrollment, request):
        raise NotFound("There is no such regrade request.")
    return request, enrollment


@dataclass(frozen=True)
class ThreadMessage:
    """One message of a regrade request's thread, as the API and pages show it: ``staff``
    says whether its author is a TA or instructor of the course."""

    author: str  # the username
    author_name: str  # the full name, or the username
    message: str
    created_at: datetime
    staff: bool


def regrade_threads(
    *, course_id: int, request_ids: list[int], viewer: Enrollment | None = None
) -> dict[int, list[ThreadMessage]]:
    """The threads of these requests of one course, by request id, oldest message first
    (requests without messages are left out). With ``viewer``, a student author is named as
    that viewer may see them (a pseudonym for a TA on an anonymous assignment:
    ``courses.anonymity``). At most two queries however many requests and messages."""
    if not request_ids:
        return {}
    messages = list(
        RegradeMessage.objects.filter(request_id__in=request_ids)
        .select_related("author", "request__submission__assignment")
        .order_by("created_at", "pk")
    )
    if not messages:
        return {}
    staff = set(
        Enrollment.objects.filter(
            course_id=course_id,
            user_id__in={m.author_id for m in messages},
            role__in=sorted(STAFF_ROLES),
        ).values_list("user_id", flat=True)
    )
    names: dict[int, StudentNames] = {}
    threads: dict[int, list[ThreadMessage]] = {}
    for m in messages:
        author, author_name = m.author.username, m.author.get_full_name() or m.author.username
        if viewer is not None and m.author_id not in staff:
            assignment = m.request.submission.assignment
            if assignment.pk not in names:
                names[assignment.pk] = student_names(enrollment=viewer, assignment=assignment)
            shown = names[assignment.pk]
            author, author_name = shown.username(m.author), shown.full_name(m.author)
        threads.setdefault(m.request_id, []).append(
            ThreadMessage(
                author=author,
                author_name=author_name,
                message=m.body,
                created_at=m.created_at,
                staff=m.author_id in staff,
            )
        )
    return threads


@dataclass(frozen=True)
class RegradePanel:
    """The receipt's regrade section: where the assignment's regrade window stands
    (``not_released``, ``open`` or ``closed``), its end, the questions one may ask about,
    whether the viewer may ask now, and the submission's regrade requests, newest first,
    with their threads by request id."""

    state: str
    released_at: datetime | None
    closes_at: datetime | None
    questions: list[tuple[str, str]]  # (slug, what pages call it)
    may_request: bool
    requests: list[RegradeRequest]
    threads: dict[int, list[ThreadMessage]]
    asked: dict[int, list[AsApplied]]  # per request id: the grade when it was asked
    changes: dict[int, list[QuestionChange]]  # per resolved request id: what it changed

    @property
    def titles(self) -> dict[str, str]:
        return dict(self.questions)


def regrade_panel(*, enrollment: Enrollment, submission: Submission, now: datetime) -> RegradePanel:
    """For whoever may see the submission (``submissions.selectors.submission_get`` has
    checked that): its owner and group members, who may ask while the window is open, and
    the course's staff, who see the requests. At most four queries."""
    assignment = submission.assignment
    closes = regrade_window_closes_at(assignment)
    if not grades_released(assignment, now):
        state = "not_released"
    elif closes is not None and now > closes:
        state = "closed"
    else:
        state = "open"
    requests = list(
        _regrade_requests().filter(submission=submission).order_by("-created_at", "-pk")
    )
    questions = [(q.slug, q.shown) for q in assignment.questions.order_by("position")]
    titles = dict(questions)
    return RegradePanel(
        asked={r.pk: as_applied(r.evaluation_before, titles) for r in requests},
        changes={r.pk: regrade_changes(r, titles) for r in requests},
        state=state,
        released_at=assignment.grades_released_at,
        closes_at=closes,
        questions=questions,
        may_request=state == "open" and enrollment.role in SUBMITTING_ROLES,
        requests=requests,
        threads=regrade_threads(
            course_id=submission.course_id,
            request_ids=[r.pk for r in requests],
            viewer=enrollment,
        ),
    )
