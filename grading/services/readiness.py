"""The instructor emails the students PS0 flagged as maybe not prepared (the readiness list),
through the mail framework: queued on commit, sent by Celery in chunks, never in the
request."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from courses.models import Enrollment, Role
from grading import notifications
from grading.errors import InvalidField
from grading.selectors.readiness import readiness_list
from portal.errors import PermissionDeniedError

SUBJECT_MAX = 200
MESSAGE_MAX = 5000


def readiness_email(*, by: Enrollment, subject: str, message: str, now: datetime) -> int:
    """Queues the message to every student on the readiness list (each once) and returns
    how many it goes to (those without an email address are left out). Instructor only;
    an empty or too long subject or message is 400 ``invalid``."""
    if by.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor emails the students PS0 flagged.")
    subject, message = subject.strip(), message.strip()
    if not subject or len(subject) > SUBJECT_MAX:
        raise InvalidField("subject", f"Write a subject of at most {SUBJECT_MAX} characters.")
    if not message or len(message) > MESSAGE_MAX:
        raise InvalidField("message", f"Write a message of at most {MESSAGE_MAX} characters.")
    ids = sorted(
        {
            r.enrollment.pk
            for r in readiness_list(enrollment=by, now=now).rows
            if r.enrollment.user.email
        }
    )
    if ids:
        with transaction.atomic():
            notifications.course_message(
                course_id=by.course_id, enrollment_ids=ids, subject=subject, message=message
            )
    return len(ids)
