"""How other apps join courses without ``courses`` importing them (courses sits below
submissions and grading).

- The assignment list: an extension registered at start-up (``grading.apps.ready``) adds
  fields to the API's assignment (grading: ``my_grade``) and context to the assignment list
  page (grading: ``my_grades``, the caller's released grades by assignment slug). With nothing
  registered, the list works on its own.
- :data:`assignments_changed`: the course config changed how assignments are scored.
- Deadlines moved (``courses.services.settings``): a :class:`TimingImpact` registered at
  start-up (``submissions.apps.ready``) counts the stored submissions whose timing class
  (on time / grace / late) a new due date or grace period would change, before the change;
  :data:`deadlines_changed`, sent after it, lets submissions re-time them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.dispatch import Signal
from rest_framework import serializers

if TYPE_CHECKING:
    from courses.models import Assignment, Enrollment


# Sent (sender: ``Assignment``) by ``courses.services.course_load`` inside its transaction,
# after every row is written, with ``assignment_ids``: the sorted ids of the assignments (already there before the load)
# whose scoring the load changed: their ``points``, or their questions (one added or removed,
# a question's ``points``, ``tests`` or position, which decides the question a test feeds).
# Not sent when nothing of that changed. Receivers recompute existing grades (grading).
assignments_changed = Signal()

# Sent (sender: ``Assignment``) by ``courses.services.settings`` inside its transaction, after
# an assignment's ``due_at`` or ``grace_days`` changed, with ``assignment_ids``. Receivers
# re-time the stored work (submissions: each submission's timing class, due date and grace
# end are recomputed against the new deadline, the student's extension included).
deadlines_changed = Signal()


class TimingImpact(Protocol):
    def retimed_count(self, *, assignment: Assignment, due_at: datetime, grace_days: int) -> int:
        """How many stored submissions of ``assignment`` would change timing class with
        this due date and grace period."""
        ...


_timing_impacts: list[TimingImpact] = []


def register_timing_impact(impact: TimingImpact) -> None:
    if impact not in _timing_impacts:
        _timing_impacts.append(impact)


def retimed_count(*, assignment: Assignment, due_at: datetime, grace_days: int) -> int:
    """The submissions a new deadline would move to another timing class (0 with nothing
    registered)."""
    return sum(
        impact.retimed_count(assignment=assignment, due_at=due_at, grace_days=grace_days)
        for impact in _timing_impacts
    )


class AssignmentListExtension(Protocol):
    def api_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        """Extra fields of the API's assignment (context: ``enrollment``, ``now``)."""
        ...

    def list_context(self, *, enrollment: Enrollment, now: datetime) -> dict[str, Any]:
        """Extra context of the assignment list page."""
        ...


_extensions: list[AssignmentListExtension] = []


def register(extension: AssignmentListExtension) -> None:
    if extension not in _extensions:
        _extensions.append(extension)


def api_fields() -> dict[str, serializers.Field]:  # type: ignore[type-arg]
    fields: dict[str, serializers.Field] = {}  # type: ignore[type-arg]
    for ext in _extensions:
        fields.update(ext.api_fields())
    return fields


def list_context(*, enrollment: Enrollment, now: datetime) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for ext in _extensions:
        context.update(ext.list_context(enrollment=enrollment, now=now))
    return context
