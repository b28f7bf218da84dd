"""Writes of releases: the instructor releases an assignment's grades to its students (the
regrade window starts) and can take them back; every release and unrelease is kept with who
and when (GradeRelease)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from courses.models import Assignment, Enrollment, Role
from grading import notifications
from grading.models import GradeRelease
from portal.errors import PermissionDeniedError


def _instructor_check(enrollment: Enrollment, assignment: Assignment, doing: str) -> None:
    if enrollment.role != Role.INSTRUCTOR or enrollment.course_id != assignment.course_id:
        raise PermissionDeniedError(f"Only the instructor {doing} grades.")


def grades_release(*, enrollment: Enrollment, assignment: Assignment, now: datetime) -> Assignment:
    """Releases the assignment's grades; the regrade window starts. Releasing released grades
    changes nothing (the time stays); after an unrelease, a new release starts a new window.
    A release that happens emails the graded students their grade, once it commits
    (:func:`grading.notifications.grades_released`)."""
    _instructor_check(enrollment, assignment, "releases")
    with transaction.atomic():
        changed = Assignment.objects.filter(
            pk=assignment.pk, grades_released_at__isnull=True
        ).update(grades_released_at=now)
        if changed:
            GradeRelease.objects.create(
                assignment=assignment,
                action=GradeRelease.Action.RELEASE,
                by=enrollment.user,
                at=now,
            )
            notifications.grades_released(assignment_id=assignment.pk)
        assignment.grades_released_at = (
            Assignment.objects.filter(pk=assignment.pk)
            .values_list("grades_released_at", flat=True)
            .get()
        )
    return assignment


def grades_unrelease(
    *, enrollment: Enrollment, assignment: Assignment, now: datetime
) -> Assignment:
    """Hides the assignment's grades from its students again (regrade requests close; a
    student may choose their counting submission again until the next release). Unreleasing
    unreleased grades changes nothing."""
    _instructor_check(enrollment, assignment, "unreleases")
    with transaction.atomic():
        changed = Assignment.objects.filter(
            pk=assignment.pk, grades_released_at__isnull=False
        ).update(grades_released_at=None)
        if changed:
            GradeRelease.objects.create(
                assignment=assignment,
                action=GradeRelease.Action.UNRELEASE,
                by=enrollment.user,
                at=now,
            )
        assignment.grades_released_at = None
    return assignment
