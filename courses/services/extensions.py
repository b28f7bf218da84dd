"""Dean of Students extensions: the instructor grants one (a new due date and the
confirmation's reference, nothing else) or takes it back."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import transaction

from courses.models import EXTENSION_REFERENCE_REGEX, Assignment, Enrollment, Extension, Role
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
    reference, nothing else. A second grant for the same student and assignment replaces the
    first. Returns the extension and whether it is new."""
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor grants extensions.")
    reference = (reference or "").strip()
    if not re.fullmatch(EXTENSION_REFERENCE_REGEX, reference):
        raise ApplicationError(
            "Give only the Dean of Students confirmation number (letters, digits and . _ / -, "
            "at most 40 characters, no spaces). Never send or store medical information.",
            code="invalid_reference",
        )
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
