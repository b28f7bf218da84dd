"""PS0 readiness for staff: the students flagged as maybe not prepared (JSON and CSV), and
the instructor's email to them."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from grading import export, selectors, services
from grading.apis.grades import JsonRefusals
from grading.selectors.readiness import Readiness
from grading.services.readiness import MESSAGE_MAX, SUBJECT_MAX
from portal.serializers import PointsField

CSV_HEADER = (
    "username",
    "name",
    "section",
    "role",
    "assignment",
    "points",
    "max_points",
    "percent",
    "threshold",
)


class ReadinessRowOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "ReadinessRow"

    username = serializers.CharField(source="enrollment.user.username")
    name = serializers.CharField(source="enrollment.user.get_full_name")
    section = serializers.CharField(source="enrollment.section.code", allow_null=True)
    role = serializers.CharField(source="enrollment.role")
    assignment = serializers.CharField(source="assignment.slug")
    points = PointsField()
    max_points = PointsField()
    percent = PointsField(allow_null=True)
    threshold = PointsField(help_text="flagged at or below this percent")


class ReadinessOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Readiness"

    assignments = serializers.ListField(
        child=serializers.CharField(), help_text="the assignments with a readiness threshold"
    )
    hidden = serializers.BooleanField(help_text="withheld from you (anonymous grading)")
    count = serializers.IntegerField()
    results = ReadinessRowOutput(many=True)


def _body(readiness: Readiness) -> dict[str, Any]:
    return {
        "assignments": [a.slug for a in readiness.assignments],
        "hidden": readiness.hidden,
        "count": len(readiness.rows),
        "results": readiness.rows,
    }


def _readiness(request: Request, course_slug: str) -> tuple[Any, Readiness]:
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    return enrollment, selectors.readiness_list(enrollment=enrollment, now=timezone.now())


class ReadinessApi(APIView):
    """GET (TA, instructor; others 404): the students (and waitlisted students) whose score
    on an assignment with a ``readiness_threshold`` (PS0) is at or below it, by last name,
    with that score, once its grades are released. A TA who sees PS0 by pseudonym
    (anonymous grading) gets ``hidden`` and no rows."""

    @extend_schema(responses=ReadinessOutput)
    def get(self, request: Request, course_slug: str) -> Response:
        _, readiness = _readiness(request, course_slug)
        return Response(ReadinessOutput(_body(readiness)).data)


class ReadinessCsvApi(APIView):
    """GET (TA, instructor): the same list as a CSV download ``<course>-readiness.csv``."""

    content_negotiation_class = JsonRefusals

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(str, description="the readiness CSV")}
    )
    def get(self, request: Request, course_slug: str) -> HttpResponse:
        enrollment, readiness = _readiness(request, course_slug)
        text = export.table_csv(
            CSV_HEADER,
            (
                (
                    r.enrollment.user.username,
                    r.enrollment.user.get_full_name(),
                    r.enrollment.section.code if r.enrollment.section else None,
                    r.enrollment.role,
                    r.assignment.slug,
                    r.points,
                    r.max_points,
                    r.percent,
                    r.threshold,
                )
                for r in readiness.rows
            ),
        )
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{enrollment.course.slug}-readiness.csv"'
        )
        return response


class ReadinessEmailApi(APIView):
    """POST (instructor; a TA 403) ``{"subject", "message"}``: emails the message to every
    student on the readiness list, in the background (Celery, in chunks); answers 202
    ``{"recipients"}`` (0: nobody is flagged, nothing sent)."""

    refusals = {"POST": {400: "invalid", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "ReadinessEmail"

        subject = serializers.CharField(max_length=SUBJECT_MAX)
        message = serializers.CharField(max_length=MESSAGE_MAX)

    class Output(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "ReadinessEmailed"

        recipients = serializers.IntegerField()

    @extend_schema(request=Input, responses={202: Output})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.readiness_email(
            by=enrollment,
            subject=data.validated_data["subject"],
            message=data.validated_data["message"],
            now=timezone.now(),
        )
        return Response(self.Output({"recipients": count}).data, status=202)
