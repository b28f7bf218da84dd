"""Rubrics and evaluations: staff keep each question's rubric items and grade a submission's
work with them (an adjustment, a comment, comments on lines of its files); students read
their evaluation once grades are released."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from grading import selectors, services
from grading.services.rubrics import AnnotationInput, QuestionEvaluation
from portal.serializers import MAX_INT, PointsField
from submissions import selectors as submission_selectors

# The longest comment on a question, and on a line, in characters.
COMMENT_MAX = 10_000
ANNOTATION_MAX = 2000


class RubricItemOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "RubricItem"

    id = serializers.IntegerField()
    question = serializers.CharField(allow_blank=True, help_text='"": the implicit question')
    description = serializers.CharField()
    points = PointsField(help_text="negative points deduct")
    position = serializers.IntegerField()


class RubricApi(APIView):
    """GET (TA, instructor): the assignment's rubric items, by question and position. POST
    (staff) ``{"question", "description", "points", "position"}``: a new item (``position``
    optional: last). An unknown question: 400 ``invalid``; points beyond plus or minus the
    question's points: 400 ``points_out_of_range``."""

    refusals = {"POST": {400: "invalid, points_out_of_range", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "RubricItemCreate"

        question = serializers.CharField(allow_blank=True, default="", max_length=64)
        description = serializers.CharField(max_length=500)
        points = serializers.DecimalField(max_digits=8, decimal_places=2)
        position = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)

    def _assignment(self, request: Request, course_slug: str, assignment_slug: str) -> Any:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        return enrollment, assignment

    @extend_schema(responses=RubricItemOutput(many=True))
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = self._assignment(request, course_slug, assignment_slug)
        items = selectors.rubric_list(enrollment=enrollment, assignment=assignment)
        return Response(RubricItemOutput(items, many=True).data)

    @extend_schema(request=Input, responses={201: RubricItemOutput})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = self._assignment(request, course_slug, assignment_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.rubric_item_create(
            by=enrollment, assignment=assignment, **data.validated_data
        )
        return Response(RubricItemOutput(item).data, status=201)


class RubricItemApi(APIView):
    """PATCH (staff) ``{"description", "points", "position"}`` (each optional): changes a
    rubric item; a change of its points rescores every grade it is applied to, each change
    kept in the history. DELETE (staff): the item is unapplied everywhere and those grades
    rescored. Others: 404."""

    refusals = {"PATCH": {400: "invalid, points_out_of_range"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "RubricItemUpdate"

        description = serializers.CharField(max_length=500, required=False)
        points = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
        position = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)

    @extend_schema(request=Input, responses={200: RubricItemOutput})
    def patch(self, request: Request, item_id: int) -> Response:
        item, enrollment = selectors.rubric_item_get(user=request.user, item_id=item_id)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.rubric_item_update(by=enrollment, item=item, **data.validated_data)
        return Response(RubricItemOutput(item).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, item_id: int) -> Response:
        item, enrollment = selectors.rubric_item_get(user=request.user, item_id=item_id)
        services.rubric_item_delete(by=enrollment, item=item)
        return Response(status=204)


class QuestionEvaluationOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "QuestionEvaluation"

    rubric_items = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT)
    )
    adjustment = PointsField()
    comment = serializers.CharField(allow_blank=True)
    points = PointsField(allow_null=True, help_text="the grade (computed); null: ungraded")


class AnnotationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Annotation"

    file = serializers.CharField(max_length=255)
    line = serializers.IntegerField(min_value=1, max_value=MAX_INT)
    text = serializers.CharField(max_length=ANNOTATION_MAX)


class EvaluationOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Evaluation"

    questions = serializers.DictField(
        child=QuestionEvaluationOutput(), help_text='by question slug ("": the implicit one)'
    )
    annotations = AnnotationSerializer(many=True)


class QuestionEvaluationInput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "QuestionEvaluationSet"

    rubric_items = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_INT), required=False
    )
    adjustment = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
    comment = serializers.CharField(max_length=COMMENT_MAX, allow_blank=True, required=False)


class EvaluationApi(APIView):
    """GET: a submission's evaluation (staff; its owner and group members once grades are
    released, 409 ``grades_not_released`` before): per question the rubric items applied,
    the adjustment, the comment and the ``points`` (the grade, computed), and the annotations
    on its files. PUT (staff): for each question named, its applied items (that question's
    only), adjustment and comment are replaced; ``annotations``, when given, replace the
    submission's. The question parts are the owner's grade (every member's for group
    work)."""

    refusals = {
        "GET": {409: "grades_not_released"},
        "PUT": {400: "invalid, points_out_of_range", 403: "permission_denied"},
    }

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "EvaluationSet"

        questions = serializers.DictField(child=QuestionEvaluationInput(), required=False)
        annotations = AnnotationSerializer(many=True, required=False)

    def _render(self, enrollment: Any, submission: Any) -> Response:
        view = selectors.evaluation_get(
            enrollment=enrollment, submission=submission, now=timezone.now()
        )
        body = {
            "questions": {s: vars(q) for s, q in view.questions.items()},
            "annotations": view.annotations,
        }
        return Response(EvaluationOutput(body).data)

    @extend_schema(responses=EvaluationOutput)
    def get(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = submission_selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        return self._render(enrollment, submission)

    @extend_schema(request=Input, responses={200: EvaluationOutput})
    def put(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = submission_selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        annotations = given.get("annotations")
        services.evaluation_set(
            by=enrollment,
            submission=submission,
            questions={
                slug: QuestionEvaluation(**parts)
                for slug, parts in given.get("questions", {}).items()
            },
            annotations=None
            if annotations is None
            else [AnnotationInput(**a) for a in annotations],
        )
        return self._render(enrollment, submission)
