"""How other apps add to the assignment list without ``courses`` importing them (courses
sits below submissions and grading). An extension registered at start-up
(``grading.apps.ready``) adds fields to the API's assignment (grading: ``my_grade``) and
context to the assignment list page (grading: ``my_grades``, the caller's released grades by
assignment slug). With nothing registered, the list works on its own."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from rest_framework import serializers

if TYPE_CHECKING:
    from courses.models import Enrollment


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
