"""Grades: staff set and read them, the instructor releases them, a student reads their own,
staff download the gradebook."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from courses.anonymity import StudentNames, course_staff_ids, student_names
from courses.models import Assignment, Enrollment
from grading import export, selectors, services
from grading.models import GradeChange
from portal.parsers import MultiPartParser
from portal.serializers import LocalDateTimeField, PointsField, ViewOutput


class GradesReleasedOutput(ViewOutput):
    class Meta:
        ref_name = "GradesReleased"

    assignment = serializers.CharField()
    grades_released_at = LocalDateTimeField(allow_null=True)
    regrade_window_closes_at = LocalDateTimeField(allow_null=True)


class GradesReleaseApi(APIView):
    """POST (instructor): releases the assignment's grades to its students; the regrade
    window starts. Releasing again keeps the first time (after an unrelease, a new release
    starts a new window). TAs: 403; students: 404."""

    refusals = {"POST": {403: "permission_denied"}}
    release_action = staticmethod(services.grades_release)

    @extend_schema(request=None, responses={200: GradesReleasedOutput})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        now = timezone.now()
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=now
        )
        assignment = self.release_action(enrollment=enrollment, assignment=assignment, now=now)
        released = {
            "assignment": assignment.slug,
            "grades_released_at": assignment.grades_released_at,
            "regrade_window_closes_at": selectors.regrade_window_closes_at(assignment),
        }
        tz = course_selectors.course_tz(assignment.course)
        return Response(GradesReleasedOutput(released, context={"tz": tz}).data)


class GradesUnreleaseApi(GradesReleaseApi):
    """POST (instructor): hides the assignment's grades from its students again; regrade
    requests close until the next release, which starts a new window. Every release and
    unrelease is kept with who and when."""

    release_action = staticmethod(services.grades_unrelease)


class GradeChangeOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "GradeChange"

    old_points = PointsField(allow_null=True)
    new_points = PointsField(allow_null=True)
    # A field named like a Field attribute: the metaclass takes it out of the class.
    source = serializers.ChoiceField(choices=GradeChange.Source.values)  # type: ignore[assignment]
    changed_by = serializers.SerializerMethodField(
        help_text="who: a username (a student's pseudonym for a TA on an anonymous assignment)"
    )
    changed_at = LocalDateTimeField()
    regrade_request = serializers.IntegerField(source="regrade_request_id", allow_null=True)
    job = serializers.IntegerField(source="job_id", allow_null=True)
    detail = serializers.CharField(allow_blank=True, help_text="what changed, in words")

    def get_changed_by(self, change: GradeChange) -> str | None:
        if change.changed_by is None:
            return None
        names: StudentNames | None = self.context.get("names")
        return names.username(change.changed_by) if names else change.changed_by.username


class GradeOutput(serializers.Serializer):  # type: ignore[type-arg]
    """A grade row (one question; "" the implicit question of an assignment without
    questions, or the whole assignment's ``excused``) with its parts and its whole history
    of changes (context: ``tz``). ``points`` is computed from the parts."""

    class Meta:
        ref_name = "Grade"

    id = serializers.IntegerField()
    student = serializers.SerializerMethodField(
        help_text="a username; the pseudonym for a TA on an anonymous assignment"
    )
    question = serializers.CharField(allow_blank=True)
    points = PointsField(allow_null=True)
    autograded = PointsField(allow_null=True, help_text="from the counting submission's result")
    adjustment = PointsField(help_text="staff's plus or minus")
    override = PointsField(allow_null=True, help_text="staff's points, in place of the rest")
    excused = serializers.BooleanField()
    needs_review = serializers.BooleanField(help_text="the result behind it awaits a review")
    updated_at = LocalDateTimeField()
    changes = GradeChangeOutput(source="changes.all", many=True)

    def get_student(self, grade: Any) -> str:
        names: StudentNames | None = self.context.get("names")
        return names.username(grade.student) if names else str(grade.student.username)


def _grade_context(enrollment: Enrollment, assignment: Assignment) -> dict[str, Any]:
    """The grade outputs' context: the course's zone, and how the viewer names the
    assignment's students (anonymous grading; staff in the history keep their names)."""
    names = student_names(enrollment=enrollment, assignment=assignment)
    if names.hidden:
        names = student_names(
            enrollment=enrollment,
            assignment=assignment,
            staff_ids=course_staff_ids(course_id=enrollment.course_id),
        )
    return {"tz": course_selectors.course_tz(enrollment.course), "names": names}


class AssignmentGradesApi(APIView):
    """GET (TA, instructor): the assignment's grade rows (``?student=`` a username), each
    with its parts and full history of changes. POST ``{"student", "question", "points",
    "adjustment", "excused"}`` (staff; each of the last three optional, at least one): on a
    question, ``points`` overrides its score until removed with ``null``, ``adjustment`` adds
    to (or takes from) the autograded part; ``excused`` (no question) excuses the whole
    assignment. Points outside the question's range: ``points_out_of_range``."""

    refusals = {"POST": {400: "unknown_student, points_out_of_range", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GradeSet"

        student = serializers.CharField()
        question = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=64
        )
        points = serializers.DecimalField(
            max_digits=8, decimal_places=2, min_value=Decimal(0), allow_null=True, required=False
        )
        adjustment = serializers.DecimalField(max_digits=8, decimal_places=2, required=False)
        # allow_null: a form that leaves it out means "unchanged", not False.
        excused = serializers.BooleanField(required=False, allow_null=True)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs.get("excused") is None:
                attrs.pop("excused", None)
            if not {"points", "adjustment", "excused"} & set(attrs):
                raise serializers.ValidationError(
                    "Give points, an adjustment or excused: what should change?"
                )
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "student",
                str,
                description="a student's username (a TA on an anonymous assignment: the "
                "pseudonym; a username then matches nothing)",
            )
        ],
        responses=GradeOutput(many=True),
    )
    def get(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        assignment = course_selectors.assignment_get(
            enrollment=enrollment, slug=assignment_slug, now=timezone.now()
        )
        grades = list(
            selectors.grade_list(
                enrollment=enrollment,
                assignment=assignment,
                student=request.query_params.get("student") or None,
            )
        )
        context = _grade_context(enrollment, assignment)
        names: StudentNames = context["names"]
        if names.hidden:  # by pseudonym, so the order tells nothing of the usernames
            grades.sort(key=lambda g: (names.pseudonym(g.student_id), g.question))
        return Response(GradeOutput(grades, many=True, context=context).data)

    @extend_schema(request=Input, responses={200: GradeOutput})
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
            enrollment=enrollment, username=data.validated_data["student"], assignment=assignment
        )
        given = data.validated_data
        grade = services.grade_set(
            by=enrollment,
            assignment=assignment,
            student=student,
            question=given["question"],
            points=given.get("points", services.KEEP),
            adjustment=given.get("adjustment", services.KEEP),
            excused=given.get("excused", services.KEEP),
            source=GradeChange.Source.STAFF,
        )
        context = _grade_context(enrollment, assignment)
        return Response(GradeOutput(selectors.grade_get(pk=grade.pk), context=context).data)


class QuestionPointsOutput(serializers.Serializer):  # type: ignore[type-arg]
    """One question of a student's grade (a ``selectors.QuestionCell``)."""

    class Meta:
        ref_name = "QuestionPoints"

    slug = serializers.CharField()
    title = serializers.CharField()
    points = PointsField(allow_null=True, help_text="null: not graded")
    max_points = PointsField()
    overridden = serializers.BooleanField(help_text="staff set these points by hand")


class _MyAssignmentOutput(serializers.Serializer):  # type: ignore[type-arg]
    """One released assignment of the student's (a ``selectors.AssignmentScore``)."""

    class Meta:
        ref_name = "MyAssignmentGrade"

    slug = serializers.CharField(source="assignment.slug")
    title = serializers.CharField(source="assignment.title")
    category = serializers.CharField(source="assignment.category.slug")
    points = PointsField(source="grade.points", allow_null=True)
    max_points = PointsField(source="grade.max_points")
    extra_credit_points = PointsField(source="grade.extra_credit_points")
    percent = PointsField(source="grade.percent", allow_null=True)
    missing = serializers.BooleanField(source="grade.missing")
    excused = serializers.BooleanField(source="grade.excused")
    needs_review = serializers.BooleanField(source="grade.needs_review")
    questions = QuestionPointsOutput(many=True)
    grades_released_at = LocalDateTimeField(source="assignment.grades_released_at")
    regrade_window_closes_at = LocalDateTimeField()


class _MyCategoryOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "MyCategoryGrade"

    slug = serializers.CharField()
    weight = PointsField()
    bonus = serializers.BooleanField()
    points = PointsField()
    max_points = PointsField()
    percent = PointsField(allow_null=True)
    counted = serializers.BooleanField()


class MyGradesOutput(serializers.Serializer):  # type: ignore[type-arg]
    """A student's grades (a ``selectors.StudentGrades`` with the enrollment in the context)."""

    class Meta:
        ref_name = "MyGrades"

    course = serializers.SerializerMethodField()
    student = serializers.SerializerMethodField()
    assignments = _MyAssignmentOutput(many=True)
    categories = _MyCategoryOutput(source="report.categories", many=True)
    base_percent = PointsField(source="report.base_percent", allow_null=True)
    bonus_percent = PointsField(source="report.bonus_percent")
    final_percent = PointsField(source="report.final_percent", allow_null=True)
    readiness_flag = serializers.BooleanField(source="report.readiness_flag", allow_null=True)

    def get_course(self, grades: Any) -> str:
        return str(self.context["enrollment"].course.slug)

    def get_student(self, grades: Any) -> str:
        return str(self.context["enrollment"].user.username)


class MyGradesApi(APIView):
    """GET (student, waitlisted student): the caller's own grades: each assignment whose grades
    are released, each category, the weighted ``final_percent`` and ``readiness_flag``. Staff
    and sit-ins have no grades: 404."""

    @extend_schema(responses=MyGradesOutput)
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = course_selectors.enrollment_get(user=request.user, course_slug=course_slug)
        grades = selectors.student_grades(enrollment=enrollment, now=timezone.now())
        tz = course_selectors.course_tz(enrollment.course)
        context = {"tz": tz, "enrollment": enrollment}
        return Response(MyGradesOutput(grades, context=context).data)


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
    ``<course>-gradebook.csv`` (``<course>-<section>-gradebook.csv`` with ``?section=``): a
    row per student and waitlisted student (of that section), a column per assignment
    (released or not) with the points each has, empty when ungraded, and the ``Current
    Score`` (the final percent over released grades). ``Points Possible`` is the section's
    level's maximum; without ``?section=`` the larger of the two levels' (use one download
    per section for Canvas, whose sections differ in level)."""

    content_negotiation_class = JsonRefusals

    @extend_schema(
        parameters=[OpenApiParameter("section", str, description="a section's code")],
        responses={(200, "text/csv"): OpenApiResponse(str, description="the gradebook CSV")},
    )
    def get(self, request: Request, course_slug: str) -> HttpResponse:
        enrollment = course_selectors.enrollment_get_staff(
            user=request.user, course_slug=course_slug
        )
        section = request.query_params.get("section") or None
        rows, assignments = selectors.gradebook_export(
            enrollment=enrollment, now=timezone.now(), section=section
        )
        response = HttpResponse(
            # ID is left empty: Canvas reads it as a Canvas user id first, and ours could
            # match another student's. Canvas then matches by SIS User ID / SIS Login ID.
            export.canvas_csv(rows, assignments, include_user_ids=False),
            content_type="text/csv; charset=utf-8",
        )
        name = "-".join(p for p in (enrollment.course.slug, section, "gradebook.csv") if p)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class GradesImportApi(APIView):
    """POST (instructor) multipart ``file``: a CSV ``username,points[,question]`` with that
    header (UTF-8; question required on an assignment graded by question, left out on one
    without). All or nothing: a refusal (400 ``invalid``) names every bad line in its
    message and in ``fields.file``; else each grade's points are set, as a staff override,
    and ``{"imported", "students"}`` answered. Participation is entered this way."""

    parser_classes = [MultiPartParser]
    refusals = {"POST": {400: "invalid", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GradesImport"

        file = serializers.FileField()

    class Output(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GradesImported"

        imported = serializers.IntegerField(help_text="grades set")
        students = serializers.IntegerField()

    @extend_schema(request={"multipart/form-data": Input}, responses={200: Output})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment, assignment = course_selectors.staff_assignment_get(
            user=request.user,
            course_slug=course_slug,
            assignment_slug=assignment_slug,
            now=timezone.now(),
        )
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        done = services.grades_import(
            by=enrollment,
            assignment=assignment,
            data=upload.read(services.GRADES_IMPORT_MAX_BYTES + 1),
            filename=upload.name or "",
        )
        return Response(self.Output({"imported": done.grades, "students": done.students}).data)
