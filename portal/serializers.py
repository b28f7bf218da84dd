"""Pieces every app's output serializers share: times in the course's zone, points as numbers,
the error envelope. Output serializers describe exactly what the API returns, so the schema
drf-spectacular serves is the truth (tests/portal/test_schema_responses.py checks it)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# The largest integer a PostgreSQL ``integer`` column (ids, positions) holds: an input above it
# is refused as invalid rather than overflowing in the database (a 500).
MAX_INT = 2**31 - 1


def iso(moment: datetime | None, tz: tzinfo) -> str | None:
    """ISO 8601 with the offset of the course's zone: what a person in the course reads. In
    UTC where that offset is not whole minutes (a zone's local mean time, before 1900 or so):
    RFC 3339, the schema's ``date-time``, has no seconds in an offset."""
    if moment is None:
        return None
    local = moment.astimezone(tz)
    offset = local.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        local = moment.astimezone(UTC)
    return local.isoformat()


@extend_schema_field(OpenApiTypes.DATETIME)
class LocalDateTimeField(serializers.Field):  # type: ignore[type-arg]
    """A moment as ISO 8601 with the offset of the course's zone, given as ``tz`` in the
    serializer's context (UTC without one)."""

    def to_representation(self, value: datetime) -> str | None:
        return iso(value, self.context.get("tz") or UTC)


@extend_schema_field(OpenApiTypes.NUMBER)
class PointsField(serializers.Field):  # type: ignore[type-arg]
    """Points (a Decimal or a number) as a JSON number."""

    def to_representation(self, value: Decimal | float) -> float:
        return float(value)


class _ErrorBody(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "ErrorBody"

    code = serializers.CharField(help_text="what clients branch on, e.g. deadline_passed")
    message = serializers.CharField(help_text="a sentence for a person")
    # A field named like a Serializer attribute: the metaclass takes it out of the class.
    fields = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="invalid: the detail per field"
    )


class ErrorOutput(serializers.Serializer):  # type: ignore[type-arg]
    """Every refusal: ``{"error": {"code", "message"}}`` (portal.errors)."""

    class Meta:
        ref_name = "Error"

    error = _ErrorBody()


class ViewOutput(serializers.Serializer):  # type: ignore[type-arg]
    """Describes a dict a selector built (a view of several rows): renders the keys the dict
    has through the declared fields, leaving out the optional ones it lacks (declare those
    ``required=False``), so the schema says exactly which keys may be missing."""

    def to_representation(self, instance: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in self.fields.items():
            if name in instance:
                value = instance[name]
                out[name] = None if value is None else field.to_representation(value)
        return out
