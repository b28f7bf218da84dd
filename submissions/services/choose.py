"""Which of an owner's submissions counts: the one chosen (by staff at any time, or by the
owner or a group member until the assignment's grades are released, as Gradescope lets a
student activate an older submission), else the latest."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses.models import STAFF_ROLES, SUBMITTING_ROLES, Enrollment, GroupMembership
from portal.errors import ApplicationError, PermissionDeniedError
from submissions.hooks import submission_chosen
from submissions.models import Submission


def _owns(enrollment: Enrollment, submission: Submission) -> bool:
    if submission.group_id:
        return GroupMembership.objects.filter(
            group_id=submission.group_id, user_id=enrollment.user_id
        ).exists()
    return submission.student_id == enrollment.user_id


def _choice_check(enrollment: Enrollment, submission: Submission, now: datetime) -> None:
    if enrollment.course_id != submission.course_id:
        raise PermissionDeniedError("Only the course's staff choose which submission counts.")
    if enrollment.role in STAFF_ROLES:
        return
    if enrollment.role not in SUBMITTING_ROLES or not _owns(enrollment, submission):
        raise PermissionDeniedError(
            "Only the course's staff, or the student who handed this work in (and their "
            "group), choose which submission counts."
        )
    released = submission.assignment.grades_released_at
    if released is not None and released <= now:
        raise ApplicationError(
            f"The grades of {submission.assignment.title} are released, so the submission "
            "that counts is fixed: ask the course staff if it should change.",
            code="grades_released",
            status=409,
        )


def submission_choose(
    *, enrollment: Enrollment, submission: Submission, now: datetime | None = None
) -> Submission:
    """Makes this submission the one that counts for its owner instead of the latest;
    choosing the latest again simply makes it explicit. One chosen per owner and assignment:
    the database holds to it. Other apps hear of it in the same transaction
    (``submissions.hooks.submission_chosen``: grading takes the grade from it at once)."""
    _choice_check(enrollment, submission, now or timezone.now())
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
        submission_chosen.send(sender=Submission, submission=submission, by=enrollment.user)
    return submission
