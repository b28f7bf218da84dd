"""The grading part of /api/v1/: staff re-runs, the queue, autograder uploads; grades, their
release, regrade requests and the gradebook."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from courses.apis import iso
from grading import export, selectors, services
from grading.models import Grade, GradeChange, RegradeRequest
from portal.errors import ApplicationError
from submissions import selectors as submission_selectors

# The longest regrade message or response taken, in characters.
MESSAGE_MAX = 5000

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


# --- grades, their release, regrade requests, the gradebook ----------------------------------


class GradesReleaseApi(APIView):
    """POST (instructor): releases the assignment's grades to its students; the regrade
    window starts. Releasing again keeps the first time. TAs: 403; students: 404."""

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "GradesReleased",
                {
                    "assignment": serializers.CharField(),
                    "grades_released_at": serializers.DateTimeField(),
                    "regrade_window_closes_at": serializers.DateTimeField(),
                },
            )
        },
    )
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        now = timezone.now()
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=now
        )
        assignment = services.grades_release(enrollment=enrollment, assignment=assignment, now=now)
        tz = course_selectors.course_tz(assignment.course)
        return Response(
            {
                "assignment": assignment.slug,
                "grades_released_at": iso(assignment.grades_released_at, tz),
                "regrade_window_closes_at": iso(selectors.regrade_window_closes_at(assignment), tz),
            }
        )


def _number(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def grade_data(grade: Grade, tz: Any) -> dict[str, Any]:
    return {
        "id": grade.pk,
        "student": grade.student.username,
        "question": grade.question,
        "points": _number(grade.points),
        "excused": grade.excused,
        "updated_at": iso(grade.updated_at, tz),
        "changes": [
            {
                "old_points": _number(c.old_points),
                "new_points": _number(c.new_points),
                "source": c.source,
                "changed_by": c.changed_by.username if c.changed_by else None,
                "changed_at": iso(c.changed_at, tz),
                "regrade_request": c.regrade_request_id,
                "job": c.job_id,
            }
            for c in grade.changes.all()
        ],
    }


GRADE_SCHEMA = inline_serializer(
    "Grade",
    {
        "id": serializers.IntegerField(),
        "student": serializers.CharField(),
        "question": serializers.CharField(),
        "points": serializers.FloatField(allow_null=True),
        "excused": serializers.BooleanField(),
        "updated_at": serializers.DateTimeField(),
        "changes": inline_serializer(
            "GradeChange",
            {
                "old_points": serializers.FloatField(allow_null=True),
                "new_points": serializers.FloatField(allow_null=True),
                "source": serializers.ChoiceField(choices=GradeChange.Source.values),
                "changed_by": serializers.CharField(allow_null=True),
                "changed_at": serializers.DateTimeField(),
                "regrade_request": serializers.IntegerField(allow_null=True),
                "job": serializers.IntegerField(allow_null=True),
            },
            many=True,
        ),
    },
)


class AssignmentGradesApi(APIView):
    """GET (TA, instructor): the assignment's grade rows (``?student=`` a username), each
    with its full history of changes. POST ``{"student", "question", "points"}``: staff set
    a grade (source "staff"); the autograder never overwrites it afterwards."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "GradeSet"

        student = serializers.CharField()
        question = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=64
        )
        points = serializers.DecimalField(
            max_digits=8, decimal_places=2, min_value=Decimal(0), allow_null=True
        )

    @extend_schema(
        parameters=[OpenApiParameter("student", str, description="a student's username")],
        responses=serializers.ListSerializer(child=GRADE_SCHEMA),
    )
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        tz = course_selectors.course_tz(enrollment.course)
        grades = selectors.grade_list(
            enrollment=enrollment,
            assignment=assignment,
            student=request.query_params.get("student") or None,
        )
        return Response([grade_data(g, tz) for g in grades])

    @extend_schema(request=Input, responses={200: GRADE_SCHEMA})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        student = selectors.course_student_get(
            enrollment=enrollment, username=data.validated_data["student"]
        )
        grade = services.grade_set(
            by=enrollment,
            assignment=assignment,
            student=student,
            question=data.validated_data["question"],
            points=data.validated_data["points"],
            source=GradeChange.Source.STAFF,
        )
        tz = course_selectors.course_tz(enrollment.course)
        return Response(grade_data(selectors.grade_get(pk=grade.pk), tz))


def regrade_data(regrade: RegradeRequest, tz: Any) -> dict[str, Any]:
    return {
        "id": regrade.pk,
        "submission": regrade.submission_id,
        "assignment": regrade.submission.assignment.slug,
        "student": regrade.student.username,
        "question": regrade.question,
        "message": regrade.message,
        "status": regrade.status,
        "created_at": iso(regrade.created_at, tz),
        "response": regrade.response,
        "resolved_by": regrade.resolved_by.username if regrade.resolved_by else None,
        "resolved_at": iso(regrade.resolved_at, tz),
    }


REGRADE_SCHEMA = inline_serializer(
    "RegradeRequest",
    {
        "id": serializers.IntegerField(),
        "submission": serializers.IntegerField(),
        "assignment": serializers.CharField(),
        "student": serializers.CharField(),
        "question": serializers.CharField(),
        "message": serializers.CharField(),
        "status": serializers.ChoiceField(choices=RegradeRequest.Status.values),
        "created_at": serializers.DateTimeField(),
        "response": serializers.CharField(),
        "resolved_by": serializers.CharField(allow_null=True),
        "resolved_at": serializers.DateTimeField(allow_null=True),
    },
)


class RegradeRequestCreateApi(APIView):
    """POST (the submission's owner or a member of its group) ``{"question", "message"}``:
    asks for a regrade while the window is open. ``question`` is "" (the whole assignment)
    or one of the assignment's question slugs."""

    class Input(serializers.Serializer):
        class Meta:
            ref_name = "RegradeRequestCreate"

        question = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=64
        )
        message = serializers.CharField(max_length=MESSAGE_MAX)

    @extend_schema(request=Input, responses={201: REGRADE_SCHEMA})
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
        tz = course_selectors.course_tz(enrollment.course)
        return Response(regrade_data(regrade, tz), status=201)


class RegradeRequestListApi(APIView):
    """GET (TA, instructor): the course's regrade requests, newest first; ``?status=open`` or
    ``resolved``, ``?assignment=<slug>``."""

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=RegradeRequest.Status.values),
            OpenApiParameter("assignment", str, description="an assignment's slug"),
        ],
        responses=serializers.ListSerializer(child=REGRADE_SCHEMA),
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
        tz = course_selectors.course_tz(enrollment.course)
        return Response([regrade_data(r, tz) for r in regrades])


class RegradeRequestDetailApi(APIView):
    """GET: one regrade request, for its requester (and their group) and the course's
    staff."""

    @extend_schema(responses=REGRADE_SCHEMA)
    def get(self, request: Request, request_id: int) -> Response:
        regrade, enrollment = selectors.regrade_request_get(
            user=request.user, request_id=request_id
        )
        tz = course_selectors.course_tz(enrollment.course)
        return Response(regrade_data(regrade, tz))


class RegradeRequestResolveApi(APIView):
    """POST (TA, instructor) ``{"response", "score"}``: answers the request. With ``score``
    the grade of the request's question (or whole assignment) becomes it, for the requester
    and, for group work, every member of the group; every change stays in the history."""

    class Input(serializers.Serializer):
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

    @extend_schema(request=Input, responses={200: REGRADE_SCHEMA})
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
            now=timezone.now(),
        )
        regrade, _ = selectors.regrade_request_get(user=request.user, request_id=regrade.pk)
        tz = course_selectors.course_tz(enrollment.course)
        return Response(regrade_data(regrade, tz))


MY_GRADES_SCHEMA = inline_serializer(
    "MyGrades",
    {
        "course": serializers.CharField(),
        "student": serializers.CharField(),
        "assignments": inline_serializer(
            "MyAssignmentGrade",
            {
                "slug": serializers.CharField(),
                "title": serializers.CharField(),
                "category": serializers.CharField(),
                "points": serializers.FloatField(allow_null=True),
                "max_points": serializers.FloatField(),
                "extra_credit_points": serializers.FloatField(),
                "percent": serializers.FloatField(allow_null=True),
                "missing": serializers.BooleanField(),
                "excused": serializers.BooleanField(),
                "questions": serializers.ListField(child=serializers.DictField()),
                "grades_released_at": serializers.DateTimeField(),
                "regrade_window_closes_at": serializers.DateTimeField(),
            },
            many=True,
        ),
        "categories": inline_serializer(
            "MyCategoryGrade",
            {
                "slug": serializers.CharField(),
                "weight": serializers.FloatField(),
                "bonus": serializers.BooleanField(),
                "points": serializers.FloatField(),
                "max_points": serializers.FloatField(),
                "percent": serializers.FloatField(allow_null=True),
                "counted": serializers.BooleanField(),
            },
            many=True,
        ),
        "base_percent": serializers.FloatField(allow_null=True),
        "bonus_percent": serializers.FloatField(),
        "final_percent": serializers.FloatField(allow_null=True),
        "readiness_flag": serializers.BooleanField(allow_null=True),
    },
)


class MyGradesApi(APIView):
    """GET (student, waitlisted student): the caller's own grades: each assignment whose grades
    are released, each category, the weighted ``final_percent`` and ``readiness_flag``. Staff
    and sit-ins have no grades: 404."""

    @extend_schema(responses=MY_GRADES_SCHEMA)
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get(user=request.user, course_slug=course_slug)
        grades = selectors.student_grades(enrollment=enrollment, now=timezone.now())
        tz = course_selectors.course_tz(enrollment.course)
        report = grades.report
        return Response(
            {
                "course": enrollment.course.slug,
                "student": enrollment.user.username,
                "assignments": [
                    {
                        "slug": row.grade.slug,
                        "title": row.grade.title,
                        "category": row.grade.category,
                        "points": _number(row.grade.points),
                        "max_points": float(row.grade.max_points),
                        "extra_credit_points": float(row.grade.extra_credit_points),
                        "percent": _number(row.grade.percent),
                        "missing": row.grade.missing,
                        "excused": row.grade.excused,
                        "questions": [
                            {"slug": slug, "points": _number(points)}
                            for slug, points in row.questions
                        ],
                        "grades_released_at": iso(row.assignment.grades_released_at, tz),
                        "regrade_window_closes_at": iso(row.regrade_window_closes_at, tz),
                    }
                    for row in grades.assignments
                ],
                "categories": [
                    {
                        "slug": c.slug,
                        "weight": float(c.weight),
                        "bonus": c.bonus,
                        "points": float(c.points),
                        "max_points": float(c.max_points),
                        "percent": _number(c.percent),
                        "counted": c.counted,
                    }
                    for c in report.categories
                ],
                "base_percent": _number(report.base_percent),
                "bonus_percent": float(report.bonus_percent),
                "final_percent": _number(report.final_percent),
                "readiness_flag": report.readiness_flag,
            }
        )


class JsonRefusals(BaseContentNegotiation):
    """The CSV download answers with a file whatever ``Accept`` says, and its refusals in the
    JSON envelope: no 406 for ``Accept: text/csv``."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        renderer = renderers[0]
        return renderer, renderer.media_type


class GradebookCsvApi(APIView):
    """GET (TA, instructor): the gradebook in Canvas's import layout, as a CSV download named
    ``<course>-gradebook.csv``: a row per student and waitlisted student, a column per
    assignment (released or not) with the points each has, empty when ungraded, and the
    ``Current Score`` (the final percent over released grades)."""

    content_negotiation_class = JsonRefusals

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(str, description="the gradebook CSV")}
    )
    def get(self, request: Request, course_slug: str) -> HttpResponse:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        rows, assignments = selectors.gradebook_export(enrollment=enrollment, now=timezone.now())
        response = HttpResponse(
            # ID is left empty: Canvas reads it as a Canvas user id first, and ours could
            # match another student's. Canvas then matches by SIS User ID / SIS Login ID.
            export.canvas_csv(rows, assignments, include_user_ids=False),
            content_type="text/csv; charset=utf-8",
        )
        filename = f"{enrollment.course.slug}-gradebook.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
