"""The grading part of /api/v1/: staff re-runs, the queue, autograder uploads."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from grading import selectors, services
from portal.errors import ApplicationError
from submissions import selectors as submission_selectors

JOB_SCHEMA = inline_serializer(
    "JobQueued", {"job_id": serializers.IntegerField(), "status": serializers.CharField()}
)


class SubmissionRerunApi(APIView):
    """POST (staff): grade this submission again with the assignment's active autograder."""

    @extend_schema(request=None, responses={202: JOB_SCHEMA})
    def post(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = submission_selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        job = services.job_rerun(enrollment=enrollment, submission=submission)
        return Response({"job_id": job.pk if job else None, "status": "queued"}, status=202)


class AssignmentRerunApi(APIView):
    """POST (staff): re-run every owner's latest (or chosen) submission of the assignment."""

    @extend_schema(
        request=None,
        responses={202: inline_serializer("Rerun", {"jobs": serializers.IntegerField()})},
    )
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        count = services.jobs_rerun_latest(enrollment=enrollment, assignment=assignment)
        return Response({"jobs": count}, status=202)


class QueueApi(APIView):
    """GET (staff): jobs per queue and state for this course, and each worker's last
    heartbeat."""

    @extend_schema(
        responses={
            200: inline_serializer(
                "GradingQueue",
                {
                    "queues": serializers.DictField(child=serializers.DictField()),
                    "workers": serializers.ListField(child=serializers.DictField()),
                },
            )
        }
    )
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        return Response(selectors.queue_overview(course_id=enrollment.course_id))


class BundleUploadApi(APIView):
    """POST (instructor), multipart ``bundle``: a new autograder version (a zip in
    Gradescope's layout). The same content again changes nothing."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "BundleUpload", {"bundle": serializers.FileField()}
            )
        },
        responses={201: inline_serializer("Bundle", {"sha256": serializers.CharField()})},
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
        return Response({"sha256": bundle.sha256, "active": bundle.active}, status=201)
