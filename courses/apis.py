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

from courses import deadlines, selectors, services
from courses.models import Extension, ProjectGroup, Role
from portal.errors import ApplicationError, PermissionDeniedError


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


# --- project groups -------------------------------------------------------------------------


def group_data(group: ProjectGroup) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "join_code": group.join_code,
        "members": sorted(m.user.username for m in group.memberships.all()),
        "locked": group.locked_at is not None,
    }


GROUP_SCHEMA = inline_serializer(
    "ProjectGroup",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "join_code": serializers.CharField(),
        "members": serializers.ListField(child=serializers.CharField()),
        "locked": serializers.BooleanField(),
    },
)


class GroupListCreateApi(APIView):
    """GET: the caller's group (a list of at most one); staff: every group of the course.
    POST {"name"}: a new group with the caller in it, and its ``join_code`` to share."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "GroupCreate"

        name = serializers.CharField(max_length=100)

    @extend_schema(responses=GROUP_SCHEMA)
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        groups = selectors.group_list(enrollment=enrollment)
        return Response([group_data(g) for g in groups])

    @extend_schema(request=Input, responses={201: GROUP_SCHEMA})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(enrollment=enrollment, name=data.validated_data["name"])
        return Response(group_data(selectors.group_get(pk=group.pk)), status=201)


class GroupJoinApi(APIView):
    """POST {"join_code"}: joins that group of the course (again: no change)."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "GroupJoin"

        join_code = serializers.CharField(max_length=16)

    @extend_schema(request=Input, responses=GROUP_SCHEMA)
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_join(
            enrollment=enrollment, join_code=data.validated_data["join_code"]
        )
        return Response(group_data(selectors.group_get(pk=group.pk)))


class GroupLeaveApi(APIView):
    """POST: leaves the caller's group, until the group's first submission."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        services.group_leave(enrollment=enrollment)
        return Response(status=204)


# --- extensions -----------------------------------------------------------------------------


def extension_data(extension: Extension, tz: Any) -> dict[str, Any]:
    a = extension.assignment
    return {
        "id": extension.pk,
        "student": extension.student.username,
        "assignment": a.slug,
        "due_at": iso(extension.due_at, tz),
        "grace_ends_at": iso(deadlines.grace_end(extension.due_at, a.grace_days, tz), tz),
        "reference": extension.reference,
        "granted_by": extension.granted_by.username if extension.granted_by else None,
    }


EXTENSION_SCHEMA = inline_serializer(
    "Extension",
    {
        "id": serializers.IntegerField(),
        "student": serializers.CharField(),
        "assignment": serializers.CharField(),
        "due_at": serializers.DateTimeField(),
        "grace_ends_at": serializers.DateTimeField(),
        "reference": serializers.CharField(),
        "granted_by": serializers.CharField(allow_null=True),
    },
)


class LocalOrAwareDateTimeField(serializers.DateTimeField):
    """An ISO date-time; without an offset it is read in the course's zone."""

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None:
            return deadlines.localize(value, self.context["tz"])
        return value


class ExtensionListCreateApi(APIView):
    """GET: staff see every extension of the course, a student their own.
    POST (instructor): ``{"student", "assignment", "due_at", "reference"}``: a Dean of Students
    confirmed extension. ``reference`` is the confirmation's number and nothing else is
    stored: never send medical information. ``due_at`` without an offset is read in the
    course's zone. A second grant for the same student and assignment replaces the first
    (200 instead of 201)."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "ExtensionGrant"

        student = serializers.CharField()
        assignment = serializers.CharField()
        due_at = LocalOrAwareDateTimeField()
        reference = serializers.CharField(max_length=40, trim_whitespace=True)

    @extend_schema(responses=EXTENSION_SCHEMA)
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        tz = selectors.course_tz(enrollment.course)
        return Response(
            [extension_data(e, tz) for e in selectors.extension_list(enrollment=enrollment)]
        )

    @extend_schema(request=Input, responses={201: EXTENSION_SCHEMA, 200: EXTENSION_SCHEMA})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        tz = selectors.course_tz(enrollment.course)
        if enrollment.role != Role.INSTRUCTOR:
            raise PermissionDeniedError("Only the instructor grants extensions.")
        extra = sorted(set(request.data) - set(self.Input().fields))
        if extra:
            raise ApplicationError(
                f"Unexpected field{'s' if len(extra) > 1 else ''} {', '.join(extra)}: an "
                "extension takes only student, assignment, due_at and reference. Never send "
                "medical information; the course keeps the confirmation reference only.",
                code="invalid",
            )
        data = self.Input(data=request.data, context={"tz": tz})
        data.is_valid(raise_exception=True)
        extension, created = services.extension_grant(
            enrollment=enrollment,
            student=data.validated_data["student"],
            assignment_slug=data.validated_data["assignment"],
            due_at=data.validated_data["due_at"],
            reference=data.validated_data["reference"],
        )
        extension = selectors.extension_list(enrollment=enrollment).get(pk=extension.pk)
        return Response(extension_data(extension, tz), status=201 if created else 200)
