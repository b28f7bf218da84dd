"""Similarity checks (staff): start one over an assignment's counting submissions, read the
latest with its pairs, most similar first."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from grading import selectors, services
from grading.apis.graders import staff_assignment
from grading.models import SimilarityCheck
from grading.selectors.similarity import CheckView, PairRow
from portal.errors import NotFound

SIMILARITY_STATUSES = list(SimilarityCheck.Status.values)


class SimilarityPairOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "SimilarityPair"

    id = serializers.IntegerField()
    students = serializers.ListField(
        child=serializers.CharField(),
        help_text="the two submitters' usernames (pseudonyms for a TA on an anonymous one)",
    )
    similarity = serializers.FloatField(min_value=0, max_value=1)
    similarities = serializers.ListField(
        child=serializers.FloatField(),
        help_text="each student's share of code found in the other's, in the order of students",
    )
    declared_collaborators = serializers.BooleanField(
        help_text="either named the other as a collaborator"
    )
    submissions = serializers.ListField(child=serializers.IntegerField())


class SimilarityCheckOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "SimilarityCheck"

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SIMILARITY_STATUSES)
    created_at = serializers.DateTimeField()
    checked_at = serializers.DateTimeField(allow_null=True, help_text="when it finished")
    requested_by = serializers.CharField(allow_null=True)
    submissions = serializers.IntegerField(help_text="counting submissions compared")
    error = serializers.CharField(allow_blank=True, help_text="why it failed")
    pairs = SimilarityPairOutput(many=True, help_text="most similar first")


def _pair(row: PairRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "students": list(row.students),
        "similarity": row.similarity,
        "similarities": list(row.similarities),
        "declared_collaborators": row.declared_collaborators,
        "submissions": list(row.submissions),
    }


def check_body(view: CheckView) -> dict[str, Any]:
    check = view.check
    return {
        "id": check.pk,
        "status": check.status,
        "created_at": check.created_at,
        "checked_at": check.finished_at,
        "requested_by": check.requested_by.username if check.requested_by else None,
        "submissions": check.submissions,
        "error": check.error,
        "pairs": [_pair(p) for p in view.pairs],
    }


class SimilarityApi(APIView):
    """GET (staff): the assignment's latest similarity check, its pairs most similar first
    (404 ``no_similarity_check`` before the first). POST (staff): starts one over the
    counting submissions, 202 with it queued; while one is queued or running, 200 with that
    one. A starter folder gone since the config was loaded: 409 ``starter_missing``."""

    refusals = {
        "GET": {404: "no_similarity_check"},
        "POST": {409: "starter_missing"},
    }

    @extend_schema(responses=SimilarityCheckOutput)
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        view = selectors.similarity_latest(enrollment=enrollment, assignment=assignment)
        if view is None:
            raise NotFound(
                f"No similarity check of {assignment.title} has been started.",
                code="no_similarity_check",
            )
        return Response(SimilarityCheckOutput(check_body(view)).data)

    @extend_schema(request=None, responses={200: SimilarityCheckOutput, 202: SimilarityCheckOutput})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
        check, created = services.similarity_check_start(
            by=enrollment, assignment=assignment, now=timezone.now()
        )
        # The check started (or the one running) is the latest: read it with its pairs.
        view = selectors.similarity_latest(enrollment=enrollment, assignment=assignment)
        body = check_body(view or CheckView(check=check, pairs=[]))
        return Response(SimilarityCheckOutput(body).data, status=202 if created else 200)
