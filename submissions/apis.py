"""The submissions part of /api/v1/: thin views over services and selectors."""

from __future__ import annotations

from typing import Any, NoReturn

from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access.throttling import UploadRateThrottle, upload_refusal
from courses import deadlines
from courses import selectors as course_selectors
from courses.anonymity import StudentNames
from courses.models import STAFF_ROLES, Assignment, Enrollment
from portal.errors import NotFound
from portal.parsers import MultiPartParser
from portal.serializers import LocalDateTimeField
from submissions import hooks, selectors, services
from submissions.models import Submission, SubmissionFile, Timing
from submissions.upload_handlers import install_upload_limits, raise_if_refused
from submissions.uploads import UploadLimits


class _FileOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "SubmissionFile"

    name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, stored: SubmissionFile) -> str:
        return f"/api/v1/submissions/{stored.submission_id}/files/{stored.pk}/"


class _GroupRef(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "SubmissionGroup"

    id = serializers.IntegerField(
        allow_null=True, help_text="null for a TA on an anonymous assignment"
    )
    name = serializers.CharField(help_text="a pseudonym for a TA on an anonymous assignment")


class SubmissionOutput(serializers.Serializer):  # type: ignore[type-arg]
    """A submission as the API shows it, times in the course's zone. Context: ``tz``,
    ``counting`` (the ids of the submissions that count), and what the registered
    extensions read (grading adds ``autograde``, ``score`` and ``tests`` from ``staff``,
    ``now`` and ``position``: see ``submissions.hooks``)."""

    class Meta:
        ref_name = "Submission"

    id = serializers.IntegerField()
    course = serializers.CharField(source="course.slug")
    assignment = serializers.CharField(source="assignment.slug")
    student = serializers.SerializerMethodField(
        help_text="the owner's username; a pseudonym for a TA on an anonymous assignment"
    )
    group = serializers.SerializerMethodField()
    number = serializers.IntegerField()
    submitted_at = LocalDateTimeField()
    timing = serializers.ChoiceField(choices=Timing.values)
    timing_label = serializers.SerializerMethodField()
    due_at = LocalDateTimeField()
    grace_ends_at = LocalDateTimeField()
    extended = serializers.BooleanField()
    grade_after = LocalDateTimeField(allow_null=True)
    files = _FileOutput(source="files.all", many=True)
    collaborators = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        fields.update(hooks.api_fields())
        return fields

    def get_timing_label(self, submission: Submission) -> str:
        return str(Timing(submission.timing).label)

    def _names(self, submission: Submission) -> StudentNames | None:
        names: dict[int, StudentNames] | None = self.context.get("names")
        return names.get(submission.assignment_id) if names else None

    def get_student(self, submission: Submission) -> str:
        names = self._names(submission)
        return names.username(submission.student) if names else submission.student.username

    @extend_schema_field(_GroupRef(allow_null=True))
    def get_group(self, submission: Submission) -> dict[str, Any] | None:
        group = submission.group
        if group is None:
            return None
        names = self._names(submission)
        if names is not None and names.hidden:
            return {"id": None, "name": names.group(group.pk, group.name)}
        return {"id": group.pk, "name": group.name}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_collaborators(self, submission: Submission) -> list[str]:
        names = self._names(submission)
        return sorted(
            names.username(u) if names else u.username for u in submission.collaborators.all()
        )

    def get_counts(self, submission: Submission) -> bool:
        """True for the submission that counts for its owner."""
        return submission.pk in self.context["counting"]


def _render(
    submissions: list[Submission],
    *,
    staff: bool,
    position: bool = False,
    counting: set[int],
    viewer: Enrollment | None = None,
) -> Any:
    """``viewer``: whose eyes (anonymous grading hides students from a TA: see
    ``courses.anonymity``); None for the owner's own submission."""
    tz = deadlines.zone(submissions[0].course.timezone) if submissions else None
    names = (
        {
            s.assignment_id: course_selectors.student_names(
                enrollment=viewer, assignment=s.assignment
            )
            for s in submissions
        }
        if viewer is not None
        else None
    )
    context = {
        "tz": tz,
        "counting": counting,
        "staff": staff,
        "now": timezone.now(),
        "names": names,
    }
    context["position"] = position
    return SubmissionOutput(submissions, many=True, context=context).data


class SubmissionListCreateApi(APIView):
    """GET: a student's own (or their group's) submissions, newest first; staff: all, with
    ``?student=``, ``?section=`` and ``?timing=`` filters, and ``?limit=``/``?offset=``.
    POST (multipart): ``files`` (one or more), ``collaborators`` (usernames, repeated or
    comma-separated); optional header ``Idempotency-Key``."""

    parser_classes = [MultiPartParser, FormParser]
    refusals = {
        "POST": {
            400: "collaboration_not_allowed, unknown_collaborator, invalid_file",
            403: "deadline_passed, permission_denied, waitlisted",
            404: "not_released",
            409: "group_required, group_size",
            413: "file_too_large",
            422: "idempotency_key_reused",
            429: "throttled",
        }
    }

    def get_throttles(self) -> list[Any]:
        """Hand-ins are throttled per person (access.throttling); reading the list is not."""
        return [UploadRateThrottle()] if self.request.method == "POST" else []

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise upload_refusal(UploadRateThrottle(), wait)

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
            OpenApiParameter(
                "student",
                str,
                description="a username; for a TA on an anonymous assignment, the pseudonym",
            ),
            OpenApiParameter("section", str),
            OpenApiParameter("timing", str, enum=Timing.values),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=SubmissionOutput(many=True),
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
        response = Response(_render(page, staff=staff, counting=counting, viewer=enrollment))
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
        responses={201: SubmissionOutput},
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
            counting = selectors.counting_ids(submissions=[submission])
        else:
            submission, counting = result.submission, {result.submission.pk}
        response = Response(
            _render([submission], staff=False, counting=counting)[0],
            status=status.HTTP_201_CREATED,
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

    @extend_schema(responses=SubmissionOutput)
    def get(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        counting = selectors.counting_ids(submissions=[submission])
        staff = enrollment.role in STAFF_ROLES
        return Response(
            _render([submission], staff=staff, position=True, counting=counting, viewer=enrollment)[
                0
            ]
        )


class SubmissionFileApi(APIView):
    """Downloads one file of a submission."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, submission_id: int, file_id: int) -> FileResponse:
        submission, _ = selectors.submission_get(user=request.user, submission_id=submission_id)
        stored = next((f for f in submission.files.all() if f.pk == file_id), None)
        if stored is None:
            raise NotFound("There is no such file in this submission.")
        return FileResponse(stored.file.open("rb"), as_attachment=True, filename=stored.name)


class SubmissionChooseApi(APIView):
    """POST: this submission is the one that counts for its owner, not the latest. Staff may
    choose at any time; the owner (or a member of its group) until the assignment's grades
    are released (then ``409 grades_released``)."""

    refusals = {"POST": {403: "permission_denied", 409: "grades_released"}}

    @extend_schema(request=None, responses=SubmissionOutput)
    def post(self, request: Request, submission_id: int) -> Response:
        submission, enrollment = selectors.submission_get(
            user=request.user, submission_id=submission_id
        )
        services.submission_choose(enrollment=enrollment, submission=submission)
        submission, _ = selectors.submission_get(user=request.user, submission_id=submission_id)
        staff = enrollment.role in STAFF_ROLES
        return Response(
            _render([submission], staff=staff, counting={submission.pk}, viewer=enrollment)[0]
        )
