"""The student's grade on the API's assignment list (``my_grade``), added to
``courses.apis.AssignmentOutput`` through ``courses.hooks``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from courses.selectors import AssignmentRow
from grading import selectors
from grading.selectors import GradeCell
from portal.serializers import PointsField


class MyGradeOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "MyGrade"

    points = PointsField(allow_null=True, help_text="counted points; 0 when missing")
    max_points = PointsField()
    excused = serializers.BooleanField()


def released_grades(context: Mapping[str, Any]) -> dict[str, GradeCell]:
    """The caller's released grades by slug, read once per rendering (the context is the
    dict the view gave the serializer: ``enrollment``, ``now``)."""
    cache = cast(dict[str, Any], context)
    if "_my_grades" not in cache:
        cache["_my_grades"] = selectors.released_cells(
            enrollment=context["enrollment"], now=context["now"]
        )
    grades: dict[str, GradeCell] = cache["_my_grades"]
    return grades


@extend_schema_field(MyGradeOutput(allow_null=True))
class MyGradeField(serializers.Field):  # type: ignore[type-arg]
    """null until the assignment's grades are released (and always for staff)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, allow_null=True, **kwargs)

    def to_representation(self, row: AssignmentRow) -> dict[str, Any] | None:
        cell = released_grades(self.context).get(row.assignment.slug)
        return None if cell is None else dict(MyGradeOutput(cell).data)
