"""Which of an owner's submissions counts: chosen by staff (or, until grades are released, by
the owner), else the latest."""

from __future__ import annotations

from django.db import transaction

from courses.models import (
    STAFF_ROLES,
    Enrollment,
)
from portal.errors import PermissionDeniedError
from submissions.models import Submission


def submission_choose(*, enrollment: Enrollment, submission: Submission) -> Submission:
    """Staff choose which of an owner's submissions counts (instead of the latest); choosing
    the latest again simply makes it explicit. One chosen per owner and assignment: the
    database holds to it."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != submission.course_id:
        raise PermissionDeniedError("Only the course's staff choose which submission counts.")
    with transaction.atomic():
        owner = Submission.objects.filter(assignment_id=submission.assignment_id)
        owner = (
            owner.filter(group_id=submission.group_id)
            if submission.group_id
            else owner.filter(student_id=submission.student_id, group__isnull=True)
        )
        owner.select_for_update().filter(chosen=True).exclude(pk=submission.pk).update(chosen=False)
        Submission.objects.filter(pk=submission.pk).update(chosen=True)
    submission.chosen = True
    return submission
