"""The submissions part of /api/v1/: thin views over services and selectors."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import deadlines
from courses import selectors as course_selectors
from courses.apis import iso
from courses.models import STAFF_ROLES, Assignment
from grading.selectors import autograde_view, latest_job, queue_position
from submissions import selectors, services
from submissions.models import Submission, Timing
from submissions.upload_handlers import install_upload_limits, raise_if_refused
from submissions.uploads import UploadLimits


def submission_data(
    submission: Submission,
    *,
    counts: bool | None = None,
    staff: bool = False,
    position: bool = False,
) -> dict[str, Any]:
    """A submission as the API shows it, times in the course's zone, with its autograder
    results as the viewer may see them (also at the top level: ``score``, ``tests``)."""
    tz = deadlines.zone(submission.course.timezone)
    now = timezone.now()
    job = latest_job(submission)
    autograde = autograde_view(
        submission,
        staff=staff,
        now=now,
        position=queue_position(job, now) if position and job and job.state == "queued" else None,
    )
    return {
        "id": submission.pk,
        "course": submission.course.slug,
        "assignment": submission.assignment.slug,
        "student": submission.student.username,
        "group": (
            {"id": submission.group_id, "name": submission.group.name}
            if submission.group_id and submission.group
            else None
        ),
        "number": submission.number,
        "submitted_at": iso(submission.submitted_at, tz),
        "timing": submission.timing,
        "timing_label": Timing(submission.timing).label,
        "due_at": iso(submission.due_at, tz),
        "grace_ends_at": iso(submission.grace_ends_at, tz),
        "extended": submission.extended,
        "grade_after": iso(submission.grade_after, tz),
        "files": [
            {
                "name": f.name,
                "size": f.size,
                "sha256": f.sha256,
                "url": f"/api/v1/submissions/{submission.pk}/files/{f.pk}/",
            }
            for f in submission.files.all()
        ],
        "collaborators": sorted(u.username for u in submission.collaborators.all()),
        "counts": counts,
        "autograde": autograde,
        "score": autograde.get("score"),
        "tests": autograde.get("tests", []),
    }


SUBMISSION_SCHEMA = inline_serializer(
    "Submission",
    {
        "id": serializers.IntegerField(),
        "submitted_at": serializers.DateTimeField(),
        "timing": serializers.ChoiceField(choices=Timing.values),
        "files": serializers.ListField(child=serializers.DictField()),
        "collaborators": serializers.ListField(child=serializers.CharField()),
        "autograde": serializers.DictField(),
    },
)


class SubmissionListCreateApi(APIView):
    """GET: a student's own (or their group's) submissions, newest first; staff: all, with
    ``?student=``, ``?section=`` and ``?timing=`` filters, and ``?limit=``/``?offset=``.
    POST (multipart): ``files`` (one or more), ``collaborators`` (usernames, repeated or
    comma-separated); optional header ``Idempotency-Key``."""

    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # The size limit must be in place before anything parses the body, and session
        # authentication's CSRF check does: so before DRF's own initial().
        if request.method == "POST":
            limits = self.limits = _limits_for(kwargs["course_slug"], kwargs["assignment_slug"])
            install_upload_limits(
                request,
                max_file_bytes=limits.max_file_bytes,
                max_total_bytes=limits.max_total_bytes,
            )
            raise_if_refused(request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("student", str),
            OpenApiParameter("section", str),
            OpenApiParameter("timing", str, enum=Timing.values),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=SUBMISSION_SCHEMA,
    )
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get(user=request.user, course_slug=course_slug)
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        qs = selectors.submission_list(
            enrollment=enrollment,
            assignment=assignment,
            student=request.query_params.get("student") or None,
            section=request.query_params.get("section") or None,
            timing=request.query_params.get("timing") or None,
        )
        total = qs.count()
        offset = _int_param(request, "offset", 0)
        limit = _int_param(request, "limit", 1000)
        page = list(qs[offset : offset + min(limit, 1000)])
        counting = selectors.counting_ids(submissions=page)
        staff = enrollment.role in STAFF_ROLES
        response = Response(
            [submission_data(s, counts=s.pk in counting, staff=staff) for s in page]
        )
        response["X-Total-Count"] = str(total)
        return response

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "SubmissionUpload",
                {
                    "files": serializers.ListField(child=serializers.FileField()),
                    "collaborators": serializers.ListField(child=serializers.CharField()),
                },
            )
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: SUBMISSION_SCHEMA},
    )
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        received_at = getattr(request._request, "received_at", None) or timezone.now()
        enrollment = course_selectors.enrollment_get(user=request.user, course_slug=course_slug)
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=received_at
        )
        limits = self.limits
        uploaded = request.FILES.getlist("files")
        collaborators: list[str] = []
        # Multipart bodies always parse to a QueryDict.
        for value in request.data.getlist("collaborators"):  # type: ignore[union-attr]
            collaborators += [v for v in str(value).replace(",", " ").split() if v]
        result = services.submission_create(
            enrollment=enrollment,
            assignment=assignment,
            files=[(f, f.name or "") for f in uploaded],
            collaborators=collaborators,
            idempotency_key=request.headers.get("Idempotency-Key"),
            received_at=received_at,
            limits=limits,
        )
        if result.replayed:
            # The earlier submission, as it stands now (a later one may count instead).
            submission = selectors.submission_get(
                user=request.user, submission_id=result.submission.pk
            )[0]
            counts = submission.pk in selectors.counting_ids(submissions=[submission])
        else:
            submission, counts = result.submission, True
        response = Response(
            submission_data(submission, counts=counts), status=status.HTTP_201_CREATED
        )
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _limits_for(course_slug: str, assignment_slug: str) -> UploadLimits:
    """The assignment's upload limits, looked up before authentication (they are not secret);
    an unknown assignment gets the defaults and its 404 comes later."""
    assignment = Assignment.objects.filter(course__slug=course_slug, slug=assignment_slug).first()
    return selectors.upload_limits_for(assignment=assignment) if assignment else UploadLimits()


def _int_param(request: Request, name: str, default: int) -> int:
    try:
        return max(0, int(request.query_params.get(name, default)))
    except (TypeError, ValueError):
        return default


class SubmissionDetailApi(APIView):
    """One submission: its owner, a member of its group, or the course's staff."""

    @extend_schema(responses=SUBMISSION_SCHEMA)
    def get(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        counting = selectors.counting_ids(submissions=[submission])
        return Response(
            submission_data(
                submission,
                counts=submission.pk in counting,
                staff=enrollment.role in STAFF_ROLES,
                position=True,
            )
        )


class SubmissionFileApi(APIView):
    """Downloads one file of a submission."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, submission_id: int, file_id: int) -> FileResponse:
        submission, _ = selectors.submission_get(user=request.user, submission_id=submission_id)
        stored = next((f for f in submission.files.all() if f.pk == file_id), None)
        if stored is None:
            from portal.errors import NotFound

            raise NotFound("There is no such file in this submission.")
        return FileResponse(stored.file.open("rb"), as_attachment=True, filename=stored.name)


class SubmissionChooseApi(APIView):
    """POST (staff): this submission is the one that counts for its owner, not the latest."""

    @extend_schema(request=None, responses=SUBMISSION_SCHEMA)
    def post(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        services.submission_choose(enrollment=enrollment, submission=submission)
        submission, _ = selectors.submission_get(user=request.user, submission_id=submission_id)
        return Response(submission_data(submission, counts=True, staff=True))
