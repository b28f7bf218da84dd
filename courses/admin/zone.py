"""Times on an admin change form are on the course's clock: the form of a row that belongs
to a course (an assignment, an extension) is shown and read in that course's zone, and its
time fields are labelled with the zone's name, as on the settings page. Without a course
known (a blank add form) the site's zone applies, as before."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from courses import deadlines
from courses.admin.scoping import course_id_of
from courses.models import Course


class CourseZoneAdminMixin:
    """For a ModelAdmin of rows that belong to a course: ``zone_fields`` are shown and read
    in the course's zone. ``course_id_for_add`` names the course of an add form (from what
    was posted), where it can."""

    zone_fields: tuple[str, ...] = ()

    def course_id_for_add(self, request: HttpRequest) -> int | None:
        return None

    def _zone_name(self, request: HttpRequest, object_id: str | None) -> str | None:
        course_id: int | None = None
        if object_id:
            obj: Model | None = self.get_object(request, object_id)  # type: ignore[attr-defined]
            course_id = course_id_of(obj) if obj is not None else None
        else:
            course_id = self.course_id_for_add(request)
        if course_id is None:
            return None
        name = Course.objects.filter(pk=course_id).values_list("timezone", flat=True).first()
        try:
            return deadlines.zone(name).key if name else None
        except ValueError:
            return None

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        name = self._zone_name(request, object_id)
        if name is None:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc,no-any-return]
        request._course_zone = name  # type: ignore[attr-defined]
        with timezone.override(ZoneInfo(name)):
            response: HttpResponse = super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
            render = getattr(response, "render", None)
            if render is not None:
                render()  # inside the zone: a TemplateResponse renders lazily
        return response

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        name = getattr(request, "_course_zone", None)
        if name:
            for field_name in self.zone_fields:
                field = form.base_fields.get(field_name)
                if field is not None:
                    field.label = f"{field.label or field_name} ({name})"
        return form


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
