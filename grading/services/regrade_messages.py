"""Writes of regrade threads: a message on an open request, by its requester (or a member of
the submission's group) or the course's staff; and staff (re)assigning a request to one of
the course's TAs or instructors."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from courses.models import STAFF_ROLES, Enrollment
from courses.selectors import course_grader_get
from grading.errors import InvalidField
from grading.models import REGRADE_TEXT_MAX, RegradeMessage, RegradeRequest
from grading.selectors.regrades import regrade_request_may_see
from portal.errors import ApplicationError, NotFound, PermissionDeniedError


def _message_check(message: str) -> str:
    """The message, trimmed: not empty, at most ``REGRADE_TEXT_MAX`` characters."""
    body = message.strip()
    if not body:
        raise InvalidField("message", "Write a message.")
    if len(body) > REGRADE_TEXT_MAX:
        raise InvalidField(
            "message",
            f"A message is at most {REGRADE_TEXT_MAX:,} characters; this has {len(body):,}.",
        )
    return body


def _request_lock(*, enrollment: Enrollment, request_id: int) -> RegradeRequest:
    """The request, locked (in the caller's transaction), for whoever may see it: 404 for
    anyone else."""
    request = (
        RegradeRequest.objects.select_for_update(of=("self",))
        .select_related("submission")
        .filter(pk=request_id)
        .first()
    )
    if request is None or not regrade_request_may_see(enrollment, request):
        raise NotFound("There is no such regrade request.")
    return request


def regrade_message_create(
    *, enrollment: Enrollment, request_id: int, message: str, now: datetime
) -> RegradeMessage:
    """Adds a message to a request's thread: by its requester, the submitter or a member of
    the submission's group, or the course's staff, while the request is open
    (``409 already_resolved`` after; the lock orders it against resolving)."""
    body = _message_check(message)
    with transaction.atomic():
        request = _request_lock(enrollment=enrollment, request_id=request_id)
        if request.status == RegradeRequest.Status.RESOLVED:
            raise ApplicationError(
                "This regrade request is resolved; its thread is closed.",
                code="already_resolved",
                status=409,
            )
        return RegradeMessage.objects.create(
            request=request, author_id=enrollment.user_id, body=body, created_at=now
        )


def regrade_request_assign(
    *, enrollment: Enrollment, request_id: int, grader: str | None
) -> RegradeRequest:
    """Staff (re)assign a request to a TA or instructor of the course, by username (None or
    "": to nobody). The requester is refused (403); anyone else who may not see it gets 404."""
    with transaction.atomic():
        request = _request_lock(enrollment=enrollment, request_id=request_id)
        if enrollment.role not in STAFF_ROLES:
            raise PermissionDeniedError("Only the course's TAs and instructors assign regrades.")
        request.assigned_to = (
            course_grader_get(course_id=enrollment.course_id, username=grader).user
            if grader
            else None
        )
        request.save(update_fields=["assigned_to"])
    return request
