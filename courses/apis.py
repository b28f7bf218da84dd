"""The courses part of /api/v1/: thin views over selectors and services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors
from portal.errors import ApplicationError


def iso(moment: datetime | None, tz: Any) -> str | None:
    """ISO 8601 with the offset of the course's zone: what a person in the course reads."""
    return moment.astimezone(tz).isoformat() if moment is not None else None


ERROR_SCHEMA = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {"code": serializers.CharField(), "message": serializers.CharField()},
        )
    },
)


class TokenApi(APIView):
    """POST {"username", "password"} → {"token"}. The same token comes back every time."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "TokenRequest"

        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)

    @extend_schema(
        request=Input,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            400: OpenApiResponse(ERROR_SCHEMA, description="invalid or invalid_credentials"),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ApplicationError(
                "That username and password do not match an active account.",
                code="invalid_credentials",
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class CourseListApi(APIView):
    """The caller's courses."""

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "Course"

        slug = serializers.CharField(source="course.slug")
        title = serializers.CharField(source="course.title")
        term = serializers.CharField(source="course.term")
        timezone = serializers.CharField(source="course.timezone")
        my_role = serializers.CharField(source="role")
        my_section = serializers.CharField(source="section.code", allow_null=True, default=None)

    @extend_schema(responses=Output(many=True))
    def get(self, request: Request) -> Response:
        enrollments = selectors.enrollment_list_for_user(user=request.user)
        return Response(self.Output(enrollments, many=True).data)


class MyDeadlineSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    grace_ends_at = serializers.DateTimeField()
    extended = serializers.BooleanField()


class AssignmentListApi(APIView):
    """Released assignments (staff: all), with deadlines in the course's zone.

    ``max_points`` is the maximum at the caller's level (the sum of the questions required at
    that level; extra credit comes on top, in ``extra_credit_points``). Staff without a section
    get the larger of the two levels' maxima; ``max_points_by_level`` gives both."""

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "Assignment"

        slug = serializers.CharField()
        title = serializers.CharField()
        category = serializers.CharField()
        max_points = serializers.DecimalField(
            max_digits=8, decimal_places=2, coerce_to_string=False
        )
        extra_credit_points = serializers.DecimalField(
            max_digits=8, decimal_places=2, coerce_to_string=False
        )
        max_points_by_level = serializers.DictField(child=serializers.FloatField())
        release_at = serializers.DateTimeField(allow_null=True)
        released = serializers.BooleanField()
        due_at = serializers.DateTimeField()
        grace_days = serializers.IntegerField()
        grace_ends_at = serializers.DateTimeField()
        after_grace = serializers.CharField()
        collaboration = serializers.BooleanField()
        group = serializers.BooleanField()
        group_size = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
        queue = serializers.CharField(allow_null=True)
        questions = serializers.ListField(child=serializers.DictField())
        my_deadline = MyDeadlineSerializer(allow_null=True)

    @extend_schema(responses=Output(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        tz = selectors.course_tz(enrollment.course)
        rows = selectors.assignment_rows(enrollment=enrollment, now=timezone.now())
        out = []
        for row in rows:
            a = row.assignment
            mine = row.my_deadline
            out.append(
                {
                    "slug": a.slug,
                    "title": a.title,
                    "category": a.category.slug,
                    "max_points": float(row.max_points),
                    "extra_credit_points": float(row.extra_credit_points),
                    "max_points_by_level": {
                        k: float(v) for k, v in row.max_points_by_level.items()
                    },
                    "release_at": iso(a.release_at, tz),
                    "released": row.released,
                    "due_at": iso(row.due_at, tz),
                    "grace_days": a.grace_days,
                    "grace_ends_at": iso(row.grace_ends_at, tz),
                    "after_grace": a.after_grace,
                    "collaboration": a.collaboration,
                    "group": a.group,
                    "group_size": [a.group_min, a.group_max] if a.group else None,
                    "queue": a.autograder_queue if a.autograder_bundle else None,
                    "questions": [
                        {
                            "slug": q.slug,
                            "points": float(q.points),
                            "undergraduate": q.undergraduate,
                            "graduate": q.graduate,
                        }
                        for q in row.questions
                    ],
                    "my_deadline": (
                        {
                            "due_at": iso(mine.due_at, tz),
                            "grace_ends_at": iso(mine.grace_ends_at, tz),
                            "extended": mine.extended,
                        }
                        if mine
                        else None
                    ),
                }
            )
        return Response(out)
