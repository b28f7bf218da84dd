"""Anonymous grading: the instructor reveals an anonymous assignment's student names to the
TAs, or hides them again."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from courses.models import Assignment, Enrollment, Role
from portal.errors import ApplicationError, NotFound, PermissionDeniedError


def assignment_names_reveal(
    *, enrollment: Enrollment, assignment: Assignment, revealed: bool, now: datetime
) -> Assignment:
    """``revealed``: the TAs see the students' names from now on (who and when are kept;
    revealing again keeps the first time); not ``revealed``: they see pseudonyms again.
    Instructor only (TAs: 403); an assignment without anonymous grading: 400
    ``not_anonymous``. Writes nothing when nothing changes."""
    if enrollment.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")
    if enrollment.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor reveals or hides students' names.")
    if not assignment.anonymous_grading:
        raise ApplicationError(
            f"{assignment.title} is not graded anonymously: TAs already see names "
            "(set anonymous_grading = true in the course config).",
            code="not_anonymous",
        )
    if now.tzinfo is None:
        raise ApplicationError("The time needs a time zone.", code="invalid")
    with transaction.atomic():
        row = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if revealed and row.names_revealed_at is None:
            row.names_revealed_at, row.names_revealed_by_id = now, enrollment.user_id
        elif not revealed and row.names_revealed_at is not None:
            row.names_revealed_at, row.names_revealed_by_id = None, None
        else:
            return row
        row.save(update_fields=["names_revealed_at", "names_revealed_by"])
    return row
