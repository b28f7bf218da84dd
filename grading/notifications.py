"""Email notifications: who gets which email, what it says, and sending it.

Three kinds, each of which a person can turn off on their profile page
(``courses.models.NotificationPreference``; no row: every kind on):

- ``grades_released``: each student or waitlisted student of the course with a grade on the
  assignment, that is a grade row with points or marked excused (a student with no graded
  row gets nothing), when its grades are released; their own grade only, one email each;
- ``regrade_answered``: the student who asked, when staff resolve the request;
- ``regrade_opened``: the request's assigned grader (``assigned_to``, where the request has
  one) or else the course's TAs, when a student opens a request; on an anonymously graded
  assignment a TA reads the requester's pseudonym, never their name.

The services call :func:`grades_released`, :func:`regrade_opened`, :func:`regrade_answered`
inside their transaction: each queues a Celery task by name on commit (ids only, JSON only,
never an email in the request). The tasks (``grading.tasks``) call the ``send_*`` functions,
which read again what they need, so an email says what is true when it is sent; a release
fans out into chunks of ``NOTIFY_CHUNK_SIZE`` recipients, one SMTP connection per chunk.
Delivery is at least once: a chunk retried after an SMTP failure may send some emails again.
Each email links to its page by an absolute URL under ``PORTAL_BASE_URL``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from courses.anonymity import names_hidden, student_pseudonym
from courses.models import SUBMITTING_ROLES, Assignment, Enrollment, Role
from grading.models import Grade, RegradeRequest
from grading.selectors.final_grades import grade_rows
from grading.selectors.regrade_changes import regrade_changes
from portal.queueing import publish_on_commit

log = logging.getLogger(__name__)


# --- queueing, from the services ---------------------------------------------------------------


def grades_released(*, assignment_id: int) -> None:
    """Queues the "grades released" emails of the assignment once the release commits."""
    publish_on_commit("grading.notify_grades_released", assignment_id)


def course_message(
    *, course_id: int, enrollment_ids: list[int], subject: str, message: str
) -> None:
    """Queues the instructor's message to these people of the course (the PS0 readiness
    email) once the request's transaction commits."""
    publish_on_commit("grading.notify_course_message", course_id, enrollment_ids, subject, message)


def regrade_opened(*, request_id: int) -> None:
    """Queues the "regrade opened" email to the request's grader(s) on commit."""
    publish_on_commit("grading.notify_regrade_opened", request_id)


def regrade_answered(*, request_id: int) -> None:
    """Queues the "regrade answered" email to the requesting student on commit."""
    publish_on_commit("grading.notify_regrade_answered", request_id)


# --- who ---------------------------------------------------------------------------------------


def _wants(kind: str, prefix: str = "") -> Q:
    """People who did not turn ``kind`` off (no preference row: on) and have an address."""
    return ~Q(**{f"{prefix}notification_preference__{kind}": False}) & ~Q(**{f"{prefix}email": ""})


def _release_recipients(assignment: Assignment) -> QuerySet[Enrollment]:
    graded = Grade.objects.filter(assignment_id=assignment.pk).filter(
        Q(points__isnull=False) | Q(excused=True)
    )
    return (
        Enrollment.objects.filter(
            course_id=assignment.course_id,
            role__in=SUBMITTING_ROLES,
            user_id__in=graded.values("student_id"),
        )
        .filter(_wants("grades_released", "user__"))
        .order_by("pk")
    )


def release_recipient_ids(*, assignment_id: int) -> list[int]:
    """The enrollments that get the "grades released" email, if the grades are released."""
    assignment = Assignment.objects.filter(pk=assignment_id).first()
    if assignment is None or assignment.grades_released_at is None:
        return []
    return list(_release_recipients(assignment).values_list("pk", flat=True))


def _users_wanting(kind: str, user_ids: Iterable[int]) -> list[User]:
    return list(User.objects.filter(pk__in=list(user_ids)).filter(_wants(kind)).order_by("pk"))


# --- what and sending --------------------------------------------------------------------------


def _link(viewname: str, *args: Any) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(viewname, args=args)


def _email(to: User, subject: str, template: str, context: dict[str, Any]) -> EmailMessage:
    profile = _link("courses:profile")
    body = render_to_string(f"email/{template}.txt", {**context, "to": to, "profile": profile})
    return EmailMessage(subject=subject, body=body, to=[to.email])


def _send(messages: list[EmailMessage]) -> int:
    """Sends the messages over one connection; an SMTP failure raises (the task retries)."""
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def send_grades_released(*, assignment_id: int, enrollment_ids: list[int]) -> int:
    """Emails these students their own grade on the assignment (as their grades page shows
    it), if its grades are still released and they still want it. Returns how many sent."""
    assignment = Assignment.objects.select_related("course").filter(pk=assignment_id).first()
    if assignment is None or assignment.grades_released_at is None:
        return 0
    students = list(
        _release_recipients(assignment)
        .filter(pk__in=enrollment_ids)
        .select_related("user", "section")
    )
    rows = grade_rows(course_id=assignment.course_id, students=students, now=timezone.now())
    course = assignment.course
    link = _link("grading:my_grades", course.slug)
    subject = f"[{course.title}] Grades released: {assignment.title}"
    return _send(
        [
            _email(
                row.enrollment.user,
                subject,
                "grades_released",
                {"assignment": assignment, "grade": row.cell(assignment.slug), "link": link},
            )
            for row in rows
        ]
    )


def _regrade_request(request_id: int, status: str) -> RegradeRequest | None:
    return (
        RegradeRequest.objects.select_related("submission__assignment__course", "student")
        .filter(pk=request_id, status=status)
        .first()
    )


def send_regrade_opened(*, request_id: int) -> int:
    """Emails the open request's assigned grader, or else the course's TAs."""
    request = _regrade_request(request_id, RegradeRequest.Status.OPEN)
    if request is None:
        return 0
    assignment = request.submission.assignment
    assigned = getattr(request, "assigned_to", None)
    grader_ids = (
        [assigned.pk]
        if assigned is not None
        else Enrollment.objects.filter(course_id=assignment.course_id, role=Role.TA).values_list(
            "user_id", flat=True
        )
    )
    graders = _users_wanting("regrade_opened", grader_ids)
    # Anonymous grading: a TA reads the requester's pseudonym, an instructor their name.
    roles = {
        e.user_id: e
        for e in Enrollment.objects.filter(
            course_id=assignment.course_id, user_id__in=[g.pk for g in graders]
        )
    }
    messages = []
    for grader in graders:
        viewer = roles.get(grader.pk)
        hidden = viewer is None or names_hidden(enrollment=viewer, assignment=assignment)
        requester = (
            student_pseudonym(assignment_id=assignment.pk, student_id=request.student_id)
            if hidden and assignment.anonymous_grading
            else request.student.get_full_name() or request.student.username
        )
        context = {
            "request": request,
            "requester": requester,
            "assignment": assignment,
            "link": _link("grading:regrade_queue", assignment.course.slug),
        }
        subject = (
            f"[{assignment.course.title}] Regrade request on {assignment.title} from {requester}"
        )
        messages.append(_email(grader, subject, "regrade_opened", context))
    return _send(messages)


def send_regrade_answered(*, request_id: int) -> int:
    """Emails the requesting student the staff's answer to their resolved request."""
    request = _regrade_request(request_id, RegradeRequest.Status.RESOLVED)
    if request is None:
        return 0
    assignment = request.submission.assignment
    context = {
        "request": request,
        "assignment": assignment,
        "link": _link("submissions:receipt", request.submission_id),
        "changes": regrade_changes(
            request, {q.slug: q.shown for q in assignment.questions.order_by("position")}
        ),
    }
    subject = f"[{assignment.course.title}] Your regrade request on {assignment.title} is answered"
    return _send(
        [
            _email(student, subject, "regrade_answered", context)
            for student in _users_wanting("regrade_answered", [request.student_id])
        ]
    )


def send_course_message(
    *, course_id: int, enrollment_ids: list[int], subject: str, message: str
) -> int:
    """Emails the instructor's message to these people (one chunk, one connection), those
    still in the course with an address. Returns how many were sent."""
    people = (
        Enrollment.objects.filter(course_id=course_id, pk__in=enrollment_ids)
        .exclude(user__email="")
        .select_related("user", "course")
        .order_by("pk")
    )
    link = None
    emails = []
    for person in people:
        link = link or _link("courses:course_detail", person.course.slug)
        course = person.course
        emails.append(
            _email(
                person.user,
                f"[{course.title}] {subject}",
                "course_message",
                {"course": course, "message": message, "link": link},
            )
        )
    return _send(emails)
