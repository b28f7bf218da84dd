"""The autograder's part of the API's submission: ``autograde`` (the job and its results as
the viewer may see them), and ``score`` and ``tests`` at the top level. Grading adds these
fields to ``submissions.apis.SubmissionOutput`` through ``submissions.hooks``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from grading import selectors
from grading.models import JobState
from portal.serializers import ViewOutput
from submissions.models import Submission

VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
AUTOGRADE_STATUSES = ["none", "queued", "running", "done", "failed"]
TEST_STATUSES = ["passed", "failed"]


class LeaderboardOutput(ViewOutput):
    class Meta:
        ref_name = "LeaderboardEntry"

    name = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    order = serializers.ChoiceField(choices=["asc", "desc"])


class TestOutput(ViewOutput):
    """One test. Students see the tests their visibility allows; staff see each test's
    ``visibility`` and ``extra_data`` too."""

    class Meta:
        ref_name = "AutograderTest"

    name = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField(allow_null=True)
    status = serializers.ChoiceField(choices=TEST_STATUSES, allow_null=True)
    output = serializers.CharField(allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField())
    output_format = serializers.CharField(allow_null=True)
    name_format = serializers.CharField(allow_null=True)
    visibility = serializers.ChoiceField(choices=VISIBILITIES, required=False)
    extra_data = serializers.JSONField(required=False)


class AutogradeOutput(ViewOutput):
    """``status`` (``none``, ``queued``, ``running``, ``done``, ``failed``), the job's times and
    message, and once done the results: for students what the autograder's visibility
    settings allow (``hidden_tests`` counts the others; with any hidden, ``score`` and
    ``max_score`` are null), for staff everything in Gradescope's own keys plus the job's
    ``attempts``, ``worker`` and ``log``."""

    class Meta:
        ref_name = "Autograde"

    status = serializers.ChoiceField(choices=AUTOGRADE_STATUSES)
    job_id = serializers.IntegerField(required=False)
    queued_at = serializers.DateTimeField(required=False)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    finished_at = serializers.DateTimeField(required=False, allow_null=True)
    message = serializers.CharField(required=False, allow_blank=True)
    held_until = serializers.DateTimeField(required=False)
    position = serializers.IntegerField(required=False)
    attempts = serializers.IntegerField(required=False)
    worker = serializers.CharField(required=False, allow_blank=True)
    log = serializers.CharField(required=False, allow_blank=True)
    score = serializers.FloatField(required=False, allow_null=True)
    max_score = serializers.FloatField(required=False, allow_null=True)
    tests = TestOutput(many=True, required=False)
    output = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    output_format = serializers.CharField(required=False, allow_null=True)
    stdout_visible = serializers.BooleanField(required=False)
    stdout = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="What run_autograder printed (results/stdout): for staff always, for the "
        "student only when the results' stdout_visibility allows it.",
    )
    leaderboard = LeaderboardOutput(many=True, required=False)
    hidden_tests = serializers.IntegerField(required=False)
    execution_time = serializers.FloatField(required=False, allow_null=True)
    visibility = serializers.ChoiceField(choices=VISIBILITIES, required=False)
    stdout_visibility = serializers.ChoiceField(choices=VISIBILITIES, required=False)
    extra_data = serializers.JSONField(required=False)
    test_output_format = serializers.CharField(required=False, allow_null=True)
    test_name_format = serializers.CharField(required=False, allow_null=True)


def autograde_of(context: Mapping[str, Any], submission: Submission) -> dict[str, Any]:
    """The submission's autograde view for the serializer's context (``staff``, ``now``,
    ``position``: whether to give a queued job's place in the queue), computed once per
    submission and rendering (the context is the dict the view gave the serializer)."""
    cache = cast(dict[str, Any], context).setdefault("_autograde", {})
    if submission.pk not in cache:
        now = context.get("now") or timezone.now()
        job = selectors.latest_job(submission)
        position = None
        if context.get("position") and job is not None and job.state == JobState.QUEUED:
            position = selectors.queue_position(job, now)
        cache[submission.pk] = selectors.autograde_view(
            submission, staff=bool(context.get("staff")), now=now, position=position
        )
    view: dict[str, Any] = cache[submission.pk]
    return view


class _WholeSubmissionField(serializers.Field):  # type: ignore[type-arg]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="*", read_only=True, **kwargs)


@extend_schema_field(AutogradeOutput)
class AutogradeField(_WholeSubmissionField):
    def to_representation(self, submission: Submission) -> dict[str, Any]:
        return AutogradeOutput().to_representation(autograde_of(self.context, submission))


@extend_schema_field(OpenApiTypes.FLOAT)
class ScoreField(_WholeSubmissionField):
    """The autograder's total as the viewer may see it (``autograde.score``)."""

    def to_representation(self, submission: Submission) -> float | None:
        score = autograde_of(self.context, submission).get("score")
        return None if score is None else float(score)


@extend_schema_field(TestOutput(many=True))
class TestsField(_WholeSubmissionField):
    """The tests as the viewer may see them (``autograde.tests``; empty before a result)."""

    def to_representation(self, submission: Submission) -> list[dict[str, Any]]:
        tests = autograde_of(self.context, submission).get("tests", [])
        return [TestOutput().to_representation(t) for t in tests]


def submission_fields() -> dict[str, serializers.Field]:  # type: ignore[type-arg]
    return {
        "autograde": AutogradeField(),
        "score": ScoreField(allow_null=True),
        "tests": TestsField(),
    }
