"""The split of grading work: the instructor names an assignment's graders and their shares
(sections, questions); staff read the grading queue (what is graded, what is left, who holds
what) and take the next ungraded submission of their share, with a soft lock."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from courses.models import Assignment, Enrollment
from grading import selectors, services
from grading.selectors.graders import QueueRow
from portal.serializers import PointsField


def staff_assignment(
    request: Request, course_slug: str, assignment_slug: str
) -> tuple[Enrollment, Assignment]:
    """The caller's staff enrollment and the assignment; 404 for anyone not staff."""
    return course_selectors.staff_assignment_get(
        user=request.user,
        course_slug=course_slug,
        assignment_slug=assignment_slug,
        now=timezone.now(),
    )


class GraderOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Grader"

    grader = serializers.CharField(source="grader.username", help_text="the username")
    sections = serializers.ListField(child=serializers.CharField(), help_text="[]: all")
    questions = serializers.ListField(child=serializers.CharField(), help_text="[]: all")


class GradersApi(APIView):
    """GET (staff): the assignment's graders and their shares. POST (instructor, head TA)
    ``{"grader",
    "sections", "questions"}``: the grader's share (sections by code, questions by slug; []
    or left out: all), replacing an earlier one (201 new, 200 replaced). A grader who is not
    a TA or instructor of the course: 400 ``unknown_grader``; an unknown section or question:
    400 ``invalid``."""

    refusals = {"POST": {400: "invalid, unknown_grader", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GraderSet"

        grader = serializers.CharField(max_length=150)
        sections = serializers.ListField(
            child=serializers.CharField(max_length=32), required=False, default=list
        )
        questions = serializers.ListField(
            child=serializers.CharField(max_length=64), required=False, default=list
        )

    @extend_schema(responses=GraderOutput(many=True))
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        shares = selectors.grader_list(enrollment=enrollment, assignment=assignment)
        return Response(GraderOutput(shares, many=True).data)

    @extend_schema(request=Input, responses={200: GraderOutput, 201: GraderOutput})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        share, created = services.grader_assign(
            by=enrollment, assignment=assignment, **data.validated_data
        )
        return Response(GraderOutput(share).data, status=201 if created else 200)


class GraderApi(APIView):
    """DELETE (instructor, head TA): takes the grader's share of the assignment away (they
    grade from everything again); 404 when they have none."""

    refusals = {"DELETE": {403: "permission_denied"}}

    @extend_schema(responses={204: None})
    def delete(
        self, request: Request, course_slug: str, assignment_slug: str, username: str
    ) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        services.grader_unassign(by=enrollment, assignment=assignment, grader=username)
        return Response(status=204)


class QueueQuestionOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "GradingWorkQuestion"

    graded = serializers.BooleanField()
    points = PointsField(allow_null=True, help_text="null: ungraded")


class QueueRowOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "GradingWorkRow"

    submission = serializers.IntegerField()
    student = serializers.CharField(help_text="the submitter's username")
    section = serializers.CharField(allow_null=True)
    questions = serializers.DictField(child=QueueQuestionOutput(), help_text="by question slug")
    locked_by = serializers.CharField(allow_null=True, help_text="who holds a live lock on it")


class QuestionProgressOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "GradingWorkProgress"

    slug = serializers.CharField(allow_blank=True)
    title = serializers.CharField()
    graded = serializers.IntegerField()
    total = serializers.IntegerField()


class GradingQueueOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "GradingWork"

    graded = serializers.IntegerField(help_text="submissions with every question graded")
    total = serializers.IntegerField()
    questions = QuestionProgressOutput(many=True)
    results = QueueRowOutput(many=True)


def _row(row: QueueRow) -> dict[str, Any]:
    return {
        "submission": row.submission,
        "student": row.student,
        "section": row.section,
        "questions": {slug: vars(q) for slug, q in row.questions.items()},
        "locked_by": row.locked_by,
    }


class GradingQueueApi(APIView):
    """GET (staff): what there is to grade on the assignment: its counting submissions (with
    ``?mine=1`` those of the caller's share; no share: all), each question graded or not and
    who holds a live lock on it; ``graded`` of ``total`` submissions have every question
    graded, and per question how many. ``?question=<slug>``: that question only (an unknown
    one: 400 ``invalid``)."""

    refusals = {"GET": {400: "invalid"}}

    @extend_schema(
        parameters=[
            OpenApiParameter("mine", bool, description="only the caller's share"),
            OpenApiParameter("question", str, description="one question's slug"),
        ],
        responses=GradingQueueOutput,
    )
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        queue = selectors.grading_queue(
            enrollment=enrollment,
            assignment=assignment,
            mine=request.query_params.get("mine", "") in ("1", "true"),
            question=request.query_params.get("question") or None,
            now=timezone.now(),
        )
        body = {
            "graded": queue.graded,
            "total": queue.total,
            "questions": [vars(q) for q in queue.questions],
            "results": [_row(r) for r in queue.results],
        }
        return Response(GradingQueueOutput(body).data)


class GradingNextOutput(QueueRowOutput):
    class Meta:
        ref_name = "GradingNext"

    question = serializers.CharField(allow_blank=True, help_text='held question; "": the whole')
    expires_at = serializers.DateTimeField(help_text="when the lock lapses")


class GradingNextApi(APIView):
    """POST (staff) ``{"question"?}``: the next counting submission of the caller's share
    whose question (left out: any of the share's) is ungraded and that no one else holds,
    locked for the caller for ``GRADING_LOCK_MINUTES`` (their other locks on the assignment
    are let go); two graders asking at once never get the same one. 204 when nothing is
    left."""

    refusals = {"POST": {400: "invalid"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GradingNextTake"

        question = serializers.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(request=Input, responses={200: GradingNextOutput, 204: None})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        handed = services.grading_next(
            by=enrollment,
            assignment=assignment,
            question=data.validated_data.get("question") or None,
            now=timezone.now(),
        )
        if handed is None:
            return Response(status=204)
        body = {**_row(handed.row), "question": handed.question, "expires_at": handed.expires_at}
        return Response(GradingNextOutput(body).data)
