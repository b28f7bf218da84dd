"""Autograding for staff: re-runs, the queue, autograder uploads."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from grading import selectors, services
from grading.models import JobState
from portal.errors import ApplicationError
from portal.parsers import MultiPartParser
from portal.serializers import ViewOutput
from submissions import selectors as submission_selectors

STAFF_ONLY = {"POST": {403: "permission_denied"}}


class JobQueuedOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "JobQueued"

    job_id = serializers.IntegerField(allow_null=True, help_text="null: no active autograder")
    status = serializers.ChoiceField(choices=["queued"])


class SubmissionRerunApi(APIView):
    """POST (staff): grade this submission again with the assignment's active autograder."""

    refusals = {"POST": {400: "no_autograder", 403: "permission_denied"}}

    @extend_schema(request=None, responses={202: JobQueuedOutput})
    def post(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = submission_selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        job = services.job_rerun(enrollment=enrollment, submission=submission)
        data = {"job_id": job.pk if job else None, "status": "queued"}
        return Response(JobQueuedOutput(data).data, status=202)


class RerunOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Rerun"

    jobs = serializers.IntegerField(help_text="how many jobs were queued")


class AssignmentRerunApi(APIView):
    """POST (staff): re-run every owner's latest (or chosen) submission of the assignment."""

    refusals = STAFF_ONLY

    @extend_schema(request=None, responses={202: RerunOutput})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        count = services.jobs_rerun_latest(enrollment=enrollment, assignment=assignment)
        return Response(RerunOutput({"jobs": count}).data, status=202)


class _QueueCounts(ViewOutput):
    class Meta:
        ref_name = "QueueCounts"

    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    superseded = serializers.IntegerField()


class _QueuesOutput(ViewOutput):
    class Meta:
        ref_name = "Queues"

    cpu = _QueueCounts()
    gpu = _QueueCounts()


class _WorkerOutput(ViewOutput):
    class Meta:
        ref_name = "QueueWorker"

    queue = serializers.ChoiceField(choices=["cpu", "gpu"])
    worker = serializers.CharField()
    last = serializers.DateTimeField(allow_null=True, help_text="its last heartbeat")


class QueueOutput(ViewOutput):
    class Meta:
        ref_name = "GradingQueue"

    queues = _QueuesOutput(help_text="per queue, the course's jobs in each state")
    workers = _WorkerOutput(many=True)


assert set(_QueueCounts._declared_fields) == set(JobState.values)


class QueueApi(APIView):
    """GET (staff): jobs per queue and state for this course, and each worker's last
    heartbeat."""

    @extend_schema(responses=QueueOutput)
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        return Response(QueueOutput(selectors.queue_overview(course_id=enrollment.course_id)).data)


class BundleOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Bundle"

    sha256 = serializers.CharField()
    active = serializers.BooleanField()


class BundleUploadApi(APIView):
    """POST (instructor), multipart ``bundle``: a new autograder version (a zip in
    Gradescope's layout). The same content again changes nothing."""

    parser_classes = [MultiPartParser]
    refusals = {"POST": {400: "invalid_file", 403: "permission_denied", 413: "file_too_large"}}

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "BundleUpload", {"bundle": serializers.FileField()}
            )
        },
        responses={201: BundleOutput},
    )
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        upload = request.FILES.get("bundle")
        if upload is None:
            raise ApplicationError("Choose the autograder zip to upload.", code="invalid_file")
        bundle = services.bundle_upload(
            enrollment=enrollment, assignment=assignment, fileobj=upload
        )
        return Response(BundleOutput(bundle).data, status=201)
