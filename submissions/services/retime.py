"""A moved deadline applies to the work already handed in: each stored submission's timing
class (on time / in grace / late), its recorded due date and grace end, and when late PS0 work
is graded, are recomputed against the assignment's new deadline (the student's extension still
replaces the due date). ``courses`` asks through its hooks (``courses.hooks``): it never
imports submissions; ``submissions.apps`` registers these."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db import transaction

from courses import deadlines
from courses.models import Assignment, Extension
from submissions.models import Submission
from submissions.services.rules import _grade_after


def _retimed(
    *, assignment: Assignment, due_at: datetime, grace_days: int
) -> Iterator[tuple[Submission, deadlines.Deadline, str]]:
    """Every stored submission of the assignment, with its deadline and timing class under
    ``due_at`` and ``grace_days``. Two queries however many submissions there are."""
    tz = deadlines.zone(assignment.course.timezone)
    extended = dict(
        Extension.objects.filter(assignment=assignment).values_list("student_id", "due_at")
    )
    for submission in Submission.objects.filter(assignment=assignment).order_by("pk"):
        deadline = deadlines.student_deadline(
            due_at=due_at,
            grace_days=grace_days,
            after_grace=assignment.after_grace,
            tz=tz,
            extension_due_at=extended.get(submission.student_id),
        )
        yield submission, deadline, str(deadline.timing(submission.submitted_at))


def retimed_count(*, assignment: Assignment, due_at: datetime, grace_days: int) -> int:
    """How many stored submissions would change timing class with this due date and grace."""
    return sum(
        1
        for submission, _, timing in _retimed(
            assignment=assignment, due_at=due_at, grace_days=grace_days
        )
        if timing != submission.timing
    )


RETIMED_FIELDS = ["timing", "due_at", "grace_ends_at", "extended", "grade_after"]


def submissions_retime(*, assignment: Assignment) -> int:
    """Recomputes the stored timing of every submission of ``assignment`` against its current
    deadline; returns how many changed timing class."""
    changed_class = 0
    dirty: list[Submission] = []
    with transaction.atomic():
        for submission, deadline, timing in _retimed(
            assignment=assignment, due_at=assignment.due_at, grace_days=assignment.grace_days
        ):
            values = {
                "timing": timing,
                "due_at": deadline.due_at,
                "grace_ends_at": deadline.grace_ends_at,
                "extended": deadline.extended,
                "grade_after": _grade_after(
                    assignment=assignment, timing=timing, at=submission.submitted_at
                ),
            }
            if timing != submission.timing:
                changed_class += 1
            if any(getattr(submission, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(submission, name, value)
                dirty.append(submission)
        if dirty:
            Submission.objects.bulk_update(dirty, RETIMED_FIELDS, batch_size=500)
    return changed_class


class SubmissionTiming:
    """Submissions' part of a moved deadline (``courses.hooks.TimingImpact``)."""

    def retimed_count(self, *, assignment: Assignment, due_at: datetime, grace_days: int) -> int:
        return retimed_count(assignment=assignment, due_at=due_at, grace_days=grace_days)


TIMING = SubmissionTiming()


def on_deadlines_changed(sender: object, *, assignment_ids: list[int], **_: Any) -> None:
    """The instructor moved these assignments' deadlines: their stored work is re-timed, in
    the same transaction."""
    for assignment in Assignment.objects.select_related("course").filter(pk__in=assignment_ids):
        submissions_retime(assignment=assignment)
