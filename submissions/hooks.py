"""How other apps take part in a submission's life without ``submissions`` importing them.

``submissions`` sits below ``grading`` (grading imports submissions, never the reverse). Two
seams let grading add what it owns:

- :data:`submission_stored`, a signal sent *inside* the transaction that writes a new
  submission (sender: :class:`~submissions.models.Submission`; arguments ``submission`` and
  ``received_at``). A receiver writes its own rows in that same transaction, so they commit
  or roll back with the submission: grading queues the autograder job this way
  (``grading.apps`` connects the receiver).
- :data:`submission_chosen`, sent inside the transaction that makes a submission the one
  that counts (arguments ``submission`` and ``by``, the user who chose): grading takes the
  owner's grade from that submission's result at once.
- A :class:`SubmissionExtension` registered at start-up (``grading.apps.ready``): its
  prefetches go into every read of submissions, its fields into the API's submission, its
  context into the assignment page and the receipt.

With nothing registered, submissions work on their own: no prefetch, no extra fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.db.models import Prefetch
from django.dispatch import Signal
from rest_framework import serializers

if TYPE_CHECKING:
    from courses.models import Assignment, Enrollment
    from submissions.models import Submission

submission_stored = Signal()
submission_chosen = Signal()


class SubmissionExtension(Protocol):
    """What another app adds to submissions. Every method is called per read or render."""

    def prefetches(self) -> Sequence[str | Prefetch[Any]]:
        """Extra prefetches for every submission queryset of the selectors."""
        ...

    def api_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """Extra fields of the API's submission (they read the submission and the serializer
        context: ``staff``, ``now``, ``position``)."""
        ...

    def assignment_page_context(
        self,
        *,
        enrollment: Enrollment,
        assignment: Assignment,
        latest: Submission | None,
        now: datetime,
    ) -> dict[str, Any]:
        """Extra context of the assignment page; ``latest`` is the caller's newest
        submission (None for staff and before a first submission)."""
        ...

    def receipt_context(
        self, *, enrollment: Enrollment, submission: Submission, now: datetime
    ) -> dict[str, Any]:
        """Extra context of a submission's receipt page."""
        ...


_extensions: list[SubmissionExtension] = []


def register(extension: SubmissionExtension) -> None:
    """Adds an extension (once: registering the same one again changes nothing)."""
    if extension not in _extensions:
        _extensions.append(extension)


def extensions() -> tuple[SubmissionExtension, ...]:
    return tuple(_extensions)


def prefetches() -> list[str | Prefetch[Any]]:
    return [p for ext in _extensions for p in ext.prefetches()]


def api_fields() -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    fields: dict[str, serializers.Field[Any, Any, Any, Any]] = {}
    for ext in _extensions:
        fields.update(ext.api_fields())
    return fields


def assignment_page_context(
    *, enrollment: Enrollment, assignment: Assignment, latest: Submission | None, now: datetime
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for ext in _extensions:
        context.update(
            ext.assignment_page_context(
                enrollment=enrollment, assignment=assignment, latest=latest, now=now
            )
        )
    return context


def receipt_context(
    *, enrollment: Enrollment, submission: Submission, now: datetime
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for ext in _extensions:
        context.update(ext.receipt_context(enrollment=enrollment, submission=submission, now=now))
    return context
