"""Regrade requests: a student asks while the window is open, staff list, assign and resolve
them; the requester and staff write in a request's thread while it is open."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from courses.anonymity import StudentNames, student_names
from courses.models import Enrollment
from grading import selectors, services
from grading.apis.rubrics import QuestionEvaluationInput
from grading.models import REGRADE_TEXT_MAX, RegradeRequest
from grading.selectors.regrades import regrade_threads
from grading.services.rubrics import QuestionEvaluation
from portal.serializers import LocalDateTimeField, PointsField
from submissions import selectors as submission_selectors

REGRADE_STATUSES = list(RegradeRequest.Status.values)

# The longest regrade message, thread message or response taken, in characters.
MESSAGE_MAX = REGRADE_TEXT_MAX


class AppliedItemOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "RegradeAppliedItem"

    id = serializers.IntegerField()
    description = serializers.CharField(help_text="the item's text at that time")
    points = PointsField(help_text="the item's points at that time")


class QuestionAsAppliedOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "RegradeQuestionAsApplied"

    rubric_items = AppliedItemOutput(many=True)
    adjustment = PointsField()
    comment = serializers.CharField(allow_blank=True)
    override = PointsField(allow_null=True, help_text="points set by hand; null: none")
    points = PointsField(allow_null=True, help_text="the question's grade; null: ungraded")


def _as_applied(help_text: str) -> serializers.DictField:
    return serializers.DictField(
        child=QuestionAsAppliedOutput(), allow_null=True, read_only=True, help_text=help_text
    )


class RegradeRequestOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "RegradeRequest"

    id = serializers.IntegerField()
    submission = serializers.IntegerField(source="submission_id")
    assignment = serializers.CharField(source="submission.assignment.slug")
    student = serializers.SerializerMethodField(
        help_text="the requester's username; the pseudonym for a TA on an anonymous assignment"
    )
    question = serializers.CharField(allow_blank=True)
    message = serializers.CharField()
    status = serializers.ChoiceField(choices=REGRADE_STATUSES)
    created_at = LocalDateTimeField()
    response = serializers.CharField(allow_blank=True)
    resolved_by = serializers.CharField(
        source="resolved_by.username", allow_null=True, default=None
    )
    resolved_at = LocalDateTimeField(allow_null=True)
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, default=None
    )
    message_count = serializers.IntegerField(help_text="messages in the request's thread")
    current_points = serializers.SerializerMethodField()
    evaluation_before = _as_applied(
        "the requester's grade when they asked, by question slug: the rubric as applied then"
    )
    evaluation_after = _as_applied("the same once resolved (null while open)")

    def get_student(self, regrade: RegradeRequest) -> str:
        names: dict[int, StudentNames] = self.context.get("names", {})
        shown = names.get(regrade.submission.assignment_id)
        return shown.username(regrade.student) if shown else regrade.student.username

    def get_current_points(self, regrade: RegradeRequest) -> float | None:
        """The grade now of what the request is about: its question, or ("") the whole
        assignment (the number every other surface shows)."""
        key = (regrade.student_id, regrade.submission.assignment.slug, regrade.question)
        points = self.context["current_points"].get(key)
        return None if points is None else float(points)


class RegradeMessageOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "RegradeMessage"

    author = serializers.CharField(
        help_text="the author's username (a student's pseudonym for a TA on an anonymous "
        "assignment)"
    )
    message = serializers.CharField()
    created_at = LocalDateTimeField()
    staff = serializers.BooleanField(help_text="whether the author is a TA or instructor")


class RegradeThreadOutput(RegradeRequestOutput):
    """One request with its thread."""

    class Meta:
        ref_name = "RegradeThread"

    messages = serializers.SerializerMethodField()

    @extend_schema_field(RegradeMessageOutput(many=True))
    def get_messages(self, regrade: RegradeRequest) -> Any:
        """The request's thread, oldest message first."""
        thread = self.context["threads"].get(regrade.pk, [])
        return RegradeMessageOutput(thread, many=True, context=self.context).data


def _context(regrades: list[RegradeRequest], course_id: int, viewer: Enrollment) -> dict[str, Any]:
    """What the outputs read beside the rows: the course's zone, the requests'
    ``current_points`` (one read for all of them) and, per assignment, how the viewer names
    its students (anonymous grading: ``courses.anonymity``)."""
    asked = [(r.student_id, r.submission.assignment.slug, r.question) for r in regrades]
    return {
        "tz": course_selectors.course_tz(regrades[0].submission.course) if regrades else None,
        "current_points": selectors.current_points(
            course_id=course_id, asked=asked, now=timezone.now()
        ),
        "names": {
            r.submission.assignment_id: student_names(
                enrollment=viewer, assignment=r.submission.assignment
            )
            for r in regrades
        },
    }


def _output(regrades: list[RegradeRequest], course_id: int, viewer: Enrollment) -> Any:
    context = _context(regrades, course_id, viewer)
    return RegradeRequestOutput(regrades, many=True, context=context).data


def _render(regrade: RegradeRequest, viewer: Enrollment) -> Any:
    return _output([regrade], regrade.submission.course_id, viewer)[0]


def _render_thread(regrade: RegradeRequest, viewer: Enrollment) -> Any:
    """One request with its thread, as the viewer sees it."""
    course_id = regrade.submission.course_id
    context = _context([regrade], course_id, viewer)
    context["threads"] = regrade_threads(
        course_id=course_id, request_ids=[regrade.pk], viewer=viewer
    )
    return RegradeThreadOutput(regrade, context=context).data


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
        return Response(_render(regrade, enrollment), status=201)


class RegradeRequestListApi(APIView):
    """GET (TA, instructor): the course's regrade requests, newest first; ``?status=open`` or
    ``resolved``, ``?assignment=<slug>``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=REGRADE_STATUSES),
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
        return Response(_output(list(regrades), enrollment.course_id, enrollment))


class RegradeRequestDetailApi(APIView):
    """GET: one regrade request with its thread, for its requester (and their group) and the
    course's staff."""

    @extend_schema(responses=RegradeThreadOutput)
    def get(self, request: Request, request_id: int) -> Response:
        regrade, enrollment = selectors.regrade_request_get(
            user=request.user, request_id=request_id
        )
        return Response(_render_thread(regrade, enrollment))


def _thread_write(
    request: Request,
    request_id: int,
    input_class: type[serializers.Serializer],  # type: ignore[type-arg]
    write: Callable[[Enrollment, dict[str, Any]], None],
) -> Any:
    """A write on a request that whoever sees it may attempt (404 for anyone else): its input
    checked, ``write`` called with the caller's enrollment and the input, then the request
    with its thread read again."""
    _, enrollment = selectors.regrade_request_get(user=request.user, request_id=request_id)
    data = input_class(data=request.data)
    data.is_valid(raise_exception=True)
    write(enrollment, data.validated_data)
    regrade, _ = selectors.regrade_request_get(user=request.user, request_id=request_id)
    return _render_thread(regrade, enrollment)


class RegradeMessageCreateApi(APIView):
    """POST ``{"message"}`` (the requester, the submitter or a member of the submission's
    group, or the course's staff): adds a message to the request's thread while it is open;
    answers the request with its thread."""

    refusals = {"POST": {409: "already_resolved"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "RegradeMessageCreate"

        message = serializers.CharField(max_length=MESSAGE_MAX)

    @extend_schema(request=Input, responses={201: RegradeThreadOutput})
    def post(self, request: Request, request_id: int) -> Response:
        def write(enrollment: Enrollment, data: dict[str, Any]) -> None:
            services.regrade_message_create(
                enrollment=enrollment,
                request_id=request_id,
                message=data["message"],
                now=timezone.now(),
            )

        return Response(_thread_write(request, request_id, self.Input, write), status=201)


class RegradeRequestAssignApi(APIView):
    """POST (TA, instructor) ``{"assigned_to": "<username>"}``: assigns the request to a TA or
    instructor of the course (``null``: to nobody); answers the request with its thread."""

    refusals = {"POST": {400: "unknown_grader", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "RegradeAssign"

        assigned_to = serializers.CharField(allow_null=True, allow_blank=True, max_length=150)

    @extend_schema(request=Input, responses={200: RegradeThreadOutput})
    def post(self, request: Request, request_id: int) -> Response:
        def write(enrollment: Enrollment, data: dict[str, Any]) -> None:
            services.regrade_request_assign(
                enrollment=enrollment, request_id=request_id, grader=data["assigned_to"]
            )

        return Response(_thread_write(request, request_id, self.Input, write))


class RegradeRequestResolveApi(APIView):
    """POST (TA, instructor) ``{"response", "score"}`` or ``{"response", "questions"}``:
    answers the request. With ``questions`` (as in ``PUT submissions/{id}/evaluation/``:
    per question slug its ``rubric_items``, ``adjustment``, ``comment``; the request's
    question only, any for a request about the whole assignment) the grade changes through
    the rubric, and an override on it is removed. With ``score`` the grade of the request's
    question (or whole assignment) becomes it, as an override. Either way for the requester
    and, for group work, every member of the group; every change stays in the history, and
    the answer keeps the grade before and after (``evaluation_before``/``_after``)."""

    refusals = {
        "POST": {
            400: "invalid, points_out_of_range",
            403: "permission_denied",
            409: "already_resolved",
        }
    }

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
        questions = serializers.DictField(
            child=QuestionEvaluationInput(),
            required=False,
            help_text="the evaluation of the request's question(s), as on the evaluation API",
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
            questions={
                slug: QuestionEvaluation(**parts)
                for slug, parts in data.validated_data.get("questions", {}).items()
            },
            now=timezone.now(),
        )
        regrade, _ = selectors.regrade_request_get(user=request.user, request_id=regrade.pk)
        return Response(_render(regrade, enrollment))
