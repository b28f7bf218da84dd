"""Dean of Students extensions: the instructor grants one (a new due date and the
confirmation's reference, nothing else) or takes it back."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from courses.models import Assignment, Enrollment, Extension, Role
from courses.references import reference_problem
from courses.selectors import course_student_get
from portal.errors import ApplicationError, NotFound, PermissionDeniedError


def extension_grant(
    *,
    enrollment: Enrollment,
    student: str,
    assignment_slug: str,
    due_at: datetime,
    reference: str,
) -> tuple[Extension, bool]:
    """Records a Dean of Students confirmed extension: the new due date and the confirmation's
    reference, nothing else. The reference must be a token that the course's
    ``extension_reference_pattern`` matches (``courses.references``; ``invalid_reference``,
    saying what a reference looks like). A second grant for the same student and assignment
    replaces the first. Returns the extension and whether it is new."""
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor grants extensions.")
    reference = (reference or "").strip()
    problem = reference_problem(reference, enrollment.course.extension_reference_pattern)
    if problem:
        raise ApplicationError(problem, code="invalid_reference")
    if due_at.tzinfo is None:
        raise ApplicationError("The new due date needs a time zone.", code="invalid")
    target = course_student_get(course_id=enrollment.course_id, username=student)
    assignment = Assignment.objects.filter(
        course_id=enrollment.course_id, slug=(assignment_slug or "").strip()
    ).first()
    if assignment is None:
        raise ApplicationError(
            f"'{assignment_slug}' is not an assignment of this course.", code="unknown_assignment"
        )
    with transaction.atomic():
        extension, created = Extension.objects.update_or_create(
            assignment=assignment,
            student=target.user,
            defaults={"due_at": due_at, "reference": reference, "granted_by": enrollment.user},
        )
    return extension, created


def extension_revoke(*, enrollment: Enrollment, extension_id: int) -> None:
    """Takes back an extension of the instructor's course (``NotFound`` where it has none)."""
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor changes extensions.")
    deleted, _ = Extension.objects.filter(
        pk=extension_id, assignment__course_id=enrollment.course_id
    ).delete()
    if not deleted:
        raise NotFound("There is no such extension.")
