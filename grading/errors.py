"""Grading's named refusals that several services and selectors raise."""

from __future__ import annotations

from portal.errors import ValidationFailed


class InvalidField(ValidationFailed):
    """A 400 ``invalid`` naming the field, shaped like DRF's validation refusals:
    ``{"fields": {field: [message]}}`` next to the message."""

    def __init__(self, field: str, message: str):
        super().__init__(message, fields={field: [message]})
