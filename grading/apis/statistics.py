"""Statistics of an assignment for staff: its points and each question's, overall and per
section, from the one grade selector."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from grading import selectors
from grading.apis.graders import staff_assignment
from grading.statistics import Summary
from portal.serializers import PointsField


class BinOutput(serializers.Serializer):  # type: ignore[type-arg]
    """``{"from", "to", "count"}``: ``from`` is a Python keyword, so the fields are declared
    in ``get_fields``."""

    class Meta:
        ref_name = "HistogramBin"

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return {
            "from": PointsField(source="start", help_text="the bin's lower edge (included)"),
            "to": PointsField(source="end", help_text="its upper edge (excluded but in the last)"),
            "count": serializers.IntegerField(),
        }


class SummaryOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "StatisticsSummary"

    count = serializers.IntegerField(help_text="students with points")
    mean = PointsField(allow_null=True)
    median = PointsField(allow_null=True)
    stdev = PointsField(allow_null=True, help_text="population standard deviation")
    min = PointsField(allow_null=True)
    max = PointsField(allow_null=True)
    histogram = BinOutput(many=True)


class QuestionStatisticsOutput(SummaryOutput):
    class Meta:
        ref_name = "QuestionStatistics"

    slug = serializers.CharField()
    title = serializers.CharField()
    max_points = PointsField()


class SectionStatisticsOutput(SummaryOutput):
    class Meta:
        ref_name = "SectionStatistics"

    code = serializers.CharField()
    level = serializers.CharField()
    max_points = PointsField()


class AssignmentStatisticsOutput(SummaryOutput):
    class Meta:
        ref_name = "AssignmentStatistics"

    assignment = serializers.CharField()
    released = serializers.BooleanField()
    max_points = PointsField()
    questions = QuestionStatisticsOutput(many=True)
    sections = SectionStatisticsOutput(many=True)


def _flat(summary: Summary, **more: Any) -> dict[str, Any]:
    return {**vars(summary), **more}


class AssignmentStatisticsApi(APIView):
    """GET (TA, instructor; others 404): the assignment's statistics over the enrolled
    students' grades (the numbers every other page shows): ``count`` (students with points;
    ungraded and excused are left out, a missing submission counts 0 once grades are
    released), ``mean``, ``median``, ``stdev`` (population), ``min``, ``max``, ``histogram``
    (ten equal bins from 0 to the maximum points, or the highest score above it), and the
    same per question (``questions``, for assignments with several) and per section
    (``sections``, each at its level's maximum)."""

    @extend_schema(responses=AssignmentStatisticsOutput)
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        stats = selectors.assignment_statistics(
            enrollment=enrollment, assignment=assignment, now=timezone.now()
        )
        body = _flat(
            stats.summary,
            assignment=assignment.slug,
            released=stats.released,
            max_points=stats.max_points,
            questions=[
                _flat(q.summary, slug=q.slug, title=q.title, max_points=q.max_points)
                for q in stats.questions
            ],
            sections=[
                _flat(s.summary, code=s.code, level=s.level, max_points=s.max_points)
                for s in stats.sections
            ],
        )
        return Response(AssignmentStatisticsOutput(body).data)
