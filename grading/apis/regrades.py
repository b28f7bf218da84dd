"""Regrade requests: a student asks while the window is open, staff list and resolve them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from grading import selectors, services
from grading.models import RegradeRequest
from portal.serializers import LocalDateTimeField
from submissions import selectors as submission_selectors

# The longest regrade message or response taken, in characters.
MESSAGE_MAX = 5000


class RegradeRequestOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "RegradeRequest"

    id = serializers.IntegerField()
    submission = serializers.IntegerField(source="submission_id")
    assignment = serializers.CharField(source="submission.assignment.slug")
    student = serializers.CharField(source="student.username")
    question = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    status = serializers.ChoiceField(choices=RegradeRequest.Status.values)
    created_at = LocalDateTimeField()
    response = serializers.CharField(allow_blank=True)
    resolved_by = serializers.CharField(
        source="resolved_by.username", allow_null=True, default=None
    )
    resolved_at = LocalDateTimeField(allow_null=True)
    current_points = serializers.SerializerMethodField()

    def get_current_points(self, regrade: RegradeRequest) -> float | None:
        """The grade now of what the request is about: its question, or ("") the whole
        assignment (the number every other surface shows)."""
        key = (regrade.student_id, regrade.submission.assignment.slug, regrade.question)
        points = self.context["current_points"].get(key)
        return None if points is None else float(points)


def _output(regrades: list[RegradeRequest], course_id: int) -> Any:
    """The requests with their ``current_points`` (one read for all of them)."""
    asked = [(r.student_id, r.submission.assignment.slug, r.question) for r in regrades]
    context = {
        "tz": course_selectors.course_tz(regrades[0].submission.course) if regrades else None,
        "current_points": selectors.current_points(
            course_id=course_id, asked=asked, now=timezone.now()
        ),
    }
    return RegradeRequestOutput(regrades, many=True, context=context).data


def _render(regrade: RegradeRequest) -> Any:
    return _output([regrade], regrade.submission.course_id)[0]


class RegradeRequestCreateApi(APIView):
    """POST (the submission's owner or a member of its group) ``{"question", "message"}``:
    asks for a regrade while the window is open. ``question`` is "" (the whole assignment)
    or one of the assignment's question slugs."""

    refusals = {
        "POST": {403: "permission_denied", 409: "grades_not_released, regrade_window_closed"}
    }

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "RegradeRequestCreate"

        question = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=64
        )
        message = serializers.CharField(max_length=MESSAGE_MAX)

    @extend_schema(request=Input, responses={201: RegradeRequestOutput})
    def post(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = submission_selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        regrade = services.regrade_request_create(
            enrollment=enrollment,
            submission=submission,
            question=data.validated_data["question"],
            message=data.validated_data["message"],
            now=timezone.now(),
        )
        regrade, _ = selectors.regrade_request_get(user=request.user, request_id=regrade.pk)
        return Response(_render(regrade), status=201)


class RegradeRequestListApi(APIView):
    """GET (TA, instructor): the course's regrade requests, newest first; ``?status=open`` or
    ``resolved``, ``?assignment=<slug>``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=RegradeRequest.Status.values),
            OpenApiParameter("assignment", str, description="an assignment's slug"),
        ],
        responses=RegradeRequestOutput(many=True),
    )
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        regrades = selectors.regrade_request_list(
            enrollment=enrollment,
            status=request.query_params.get("status") or None,
            assignment_slug=request.query_params.get("assignment") or None,
        )
        return Response(_output(list(regrades), enrollment.course_id))


class RegradeRequestDetailApi(APIView):
    """GET: one regrade request, for its requester (and their group) and the course's
    staff."""

    @extend_schema(responses=RegradeRequestOutput)
    def get(self, request: Request, request_id: int) -> Response:
        regrade, _ = selectors.regrade_request_get(user=request.user, request_id=request_id)
        return Response(_render(regrade))


class RegradeRequestResolveApi(APIView):
    """POST (TA, instructor) ``{"response", "score"}``: answers the request. With ``score``
    the grade of the request's question (or whole assignment) becomes it, for the requester
    and, for group work, every member of the group; every change stays in the history."""

    refusals = {"POST": {403: "permission_denied", 409: "already_resolved"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "RegradeResolve"

        response = serializers.CharField(max_length=MESSAGE_MAX)
        score = serializers.DecimalField(
            max_digits=8,
            decimal_places=2,
            min_value=Decimal(0),
            required=False,
            allow_null=True,
            default=None,
        )

    @extend_schema(request=Input, responses={200: RegradeRequestOutput})
    def post(self, request: Request, request_id: int) -> Response:
        regrade, enrollment = selectors.regrade_request_get(
            user=request.user, request_id=request_id
        )
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.regrade_request_resolve(
            enrollment=enrollment,
            request_id=regrade.pk,
            response=data.validated_data["response"],
            score=data.validated_data["score"],
            now=timezone.now(),
        )
        regrade, _ = selectors.regrade_request_get(user=request.user, request_id=regrade.pk)
        return Response(_render(regrade))
