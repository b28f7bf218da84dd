"""The staff gradebook as JSON, and the results awaiting a review with their acceptance."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from courses.anonymity import student_names
from grading import selectors, services
from grading.selectors import GradeCell, StudentRow
from portal.errors import ValidationFailed
from portal.serializers import LocalDateTimeField, PointsField

MAX_PAGE_SIZE = 1000


class GradebookCellOutput(serializers.Serializer):  # type: ignore[type-arg]
    """One student's grade on one assignment (a ``selectors.GradeCell``)."""

    class Meta:
        ref_name = "GradebookCell"

    points = PointsField(
        allow_null=True, help_text="counted points; 0 when missing, null when excused or ungraded"
    )
    max_points = PointsField(help_text="the maximum at the student's level")
    excused = serializers.BooleanField()
    missing = serializers.BooleanField(help_text="released with no grade: counts 0")
    needs_review = serializers.BooleanField()
    hidden = serializers.BooleanField(
        help_text="anonymous grading: the numbers are withheld from this TA (points null)"
    )


def _cell(cell: GradeCell, hidden: bool) -> dict[str, Any]:
    """:class:`GradebookCellOutput`'s keys, for one cell."""
    return {
        "points": None if cell.points is None else float(cell.points),
        "max_points": float(cell.max_points),
        "excused": cell.excused,
        "missing": cell.missing,
        "needs_review": cell.needs_review,
        "hidden": hidden,
    }


class GradebookRowOutput(serializers.Serializer):  # type: ignore[type-arg]
    """A student's row (a ``selectors.StudentRow``)."""

    class Meta:
        ref_name = "GradebookRow"

    username = serializers.CharField(source="enrollment.user.username")
    name = serializers.SerializerMethodField()
    section = serializers.CharField(source="enrollment.section.code", allow_null=True, default=None)
    level = serializers.CharField(source="enrollment.section.level", allow_null=True, default=None)
    role = serializers.CharField(source="enrollment.role")
    assignments = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()
    final_percent = PointsField(source="report.final_percent", allow_null=True)
    readiness_flag = serializers.BooleanField(source="report.readiness_flag", allow_null=True)

    def get_name(self, row: StudentRow) -> str:
        return str(row.enrollment.user.get_full_name())

    @extend_schema_field(serializers.DictField(child=PointsField(allow_null=True)))
    def get_categories(self, row: StudentRow) -> dict[str, float | None]:
        """Per category slug, its percent over released grades (null: nothing counted yet);
        empty when the final percent is withheld (anonymous grading)."""
        return {
            c.slug: None if c.percent is None else float(c.percent) for c in row.report.categories
        }

    @extend_schema_field(serializers.DictField(child=GradebookCellOutput()))
    def get_assignments(self, row: StudentRow) -> dict[str, Any]:
        """Per assignment slug, released or not (staff see every grade). Written out here,
        not through a serializer per cell: a page holds up to 12,000 cells."""
        hidden = self.context.get("hidden", frozenset())
        return {c.assignment.slug: _cell(c, c.assignment.slug in hidden) for c in row.cells}


class GradebookOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Gradebook"

    count = serializers.IntegerField(help_text="students matching the filters, all pages")
    hidden_assignments = serializers.SerializerMethodField(
        help_text="anonymous grading: the assignments whose numbers are withheld from this TA"
    )
    final_percent_hidden = serializers.BooleanField(
        source="withheld.percent",
        help_text="anonymous grading: final_percent and readiness_flag are withheld (null)",
    )
    results = GradebookRowOutput(source="rows", many=True)

    def get_hidden_assignments(self, book: Any) -> list[str]:
        return sorted(book.withheld.slugs)


def _page_params(request: Request) -> tuple[int, int]:
    try:
        page = int(request.query_params.get("page", 1))
        size = int(request.query_params.get("page_size", 100))
    except ValueError:
        raise ValidationFailed("page and page_size are whole numbers.") from None
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"page starts at 1; page_size is from 1 to {MAX_PAGE_SIZE}.")
    return page, size


class GradebookApi(APIView):
    """GET (TA, instructor): the gradebook, a row per student and waitlisted student (by last
    name), with every assignment's grade (the numbers every other surface shows), the final
    percent over released grades and the readiness flag. ``?page`` (from 1),
    ``?page_size`` (at most 1,000; default 100); filters ``?section`` (a code), ``?search``
    (a piece of a name or username), ``?level``, ``?role``, ``?flagged=true``,
    ``?missing=any|<slug>``; ``?sort=name|section|final_percent|assignment:<slug>|
    category:<slug>`` and ``?order=asc|desc`` (see ``selectors.GradebookFilters``). A TA
    under anonymous grading is refused (400 ``withheld``) a sort or filter on withheld
    numbers."""

    refusals = {"GET": {400: "invalid, withheld"}}

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter("section", str),
            OpenApiParameter("search", str),
            OpenApiParameter("level", str, enum=["undergraduate", "graduate"]),
            OpenApiParameter("role", str, enum=["student", "waitlisted"]),
            OpenApiParameter("flagged", bool, description="only readiness-flagged students"),
            OpenApiParameter(
                "missing",
                str,
                description="any: missing a released assignment; <slug>: missing that one",
            ),
            OpenApiParameter(
                "sort",
                str,
                description="name (default), section, final_percent, assignment:<slug> "
                "(points), category:<slug> (percent); no value last",
            ),
            OpenApiParameter("order", str, enum=["asc", "desc"]),
        ],
        responses=GradebookOutput,
    )
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        page, size = _page_params(request)
        book = selectors.gradebook_page(
            enrollment=enrollment,
            now=timezone.now(),
            page=page,
            page_size=size,
            filters=selectors.GradebookFilters.from_params(request.query_params),
        )
        context = {"hidden": book.withheld.slugs}
        return Response(GradebookOutput(book, context=context).data)


class ReviewOutput(serializers.Serializer):  # type: ignore[type-arg]
    """A result whose numbers do not add up (a ``GradingResult``)."""

    class Meta:
        ref_name = "ResultToReview"

    submission = serializers.IntegerField(source="job.submission_id")
    job = serializers.IntegerField(source="job_id")
    student = serializers.SerializerMethodField(
        help_text="a username; the pseudonym for a TA on an anonymous assignment"
    )
    score = serializers.FloatField(allow_null=True)
    max_score = serializers.FloatField(allow_null=True)
    reasons = serializers.ListField(source="review", child=serializers.CharField())
    accepted_by = serializers.CharField(
        source="accepted_by.username", allow_null=True, default=None
    )
    accepted_at = LocalDateTimeField(allow_null=True)

    def get_student(self, result: Any) -> str:
        submission = result.job.submission
        viewer = self.context.get("viewer")
        if viewer is None:
            return str(submission.student.username)
        names = student_names(enrollment=viewer, assignment=submission.assignment)
        return names.username(submission.student)


class ResultsToReviewApi(APIView):
    """GET (TA, instructor): the assignment's results that count for nothing until a staff
    member accepts them (a test above its maximum, a total above the tests' maximum or the
    questions' points, a test that feeds no question), newest first."""

    @extend_schema(responses=ReviewOutput(many=True))
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        results = selectors.results_to_review(enrollment=enrollment, assignment=assignment)
        tz = course_selectors.course_tz(enrollment.course)
        context = {"tz": tz, "viewer": enrollment}
        return Response(ReviewOutput(results, many=True, context=context).data)


class ResultAcceptApi(APIView):
    """POST (TA, instructor): accepts the result of this grading job: it counts from now on
    (each question's part within its points), and the owner's grades take it (source
    "accepted")."""

    refusals = {"POST": {403: "permission_denied"}}

    @extend_schema(request=None, responses=ReviewOutput)
    def post(self, request: Request, job_id: int) -> Response:
        enrollment = selectors.job_enrollment_get(user=request.user, job_id=job_id)
        result = services.result_accept(enrollment=enrollment, job_id=job_id, now=timezone.now())
        tz = course_selectors.course_tz(enrollment.course)
        return Response(ReviewOutput(result, context={"tz": tz, "viewer": enrollment}).data)
