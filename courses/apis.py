"""The courses part of /api/v1/: thin views over selectors and services."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import deadlines, hooks, selectors, services
from courses.models import AfterGrace, Enrollment, Extension, ProjectGroup, Requirement, Role
from courses.selectors import AssignmentRow
from portal.errors import ApplicationError, PermissionDeniedError, ValidationFailed
from portal.serializers import LocalDateTimeField, PointsField, iso


class CourseListApi(APIView):
    """The caller's courses."""

    class Output(serializers.Serializer):
        class Meta:
            ref_name = "Course"

        slug = serializers.CharField(source="course.slug")
        title = serializers.CharField(source="course.title")
        term = serializers.CharField(source="course.term")
        timezone = serializers.CharField(source="course.timezone")
        my_role = serializers.CharField(source="role")
        my_section = serializers.CharField(source="section.code", allow_null=True, default=None)

    @extend_schema(responses=Output(many=True))
    def get(self, request: Request) -> Response:
        enrollments = selectors.enrollment_list_for_user(user=request.user)
        return Response(self.Output(enrollments, many=True).data)


class MyDeadlineOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "MyDeadline"

    due_at = LocalDateTimeField()
    grace_ends_at = LocalDateTimeField()
    extended = serializers.BooleanField()


class QuestionOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "AssignmentQuestion"

    slug = serializers.CharField()
    title = serializers.CharField(source="shown", help_text="its title, else its slug")
    points = PointsField()
    tests = serializers.ListField(child=serializers.CharField(), help_text="autograder test globs")
    undergraduate = serializers.ChoiceField(choices=Requirement.choices)
    graduate = serializers.ChoiceField(choices=Requirement.choices)


class AssignmentOutput(serializers.Serializer):  # type: ignore[type-arg]
    """One row of the assignment list (a ``selectors.AssignmentRow``; context: ``tz``)."""

    class Meta:
        ref_name = "Assignment"

    slug = serializers.CharField(source="assignment.slug")
    title = serializers.CharField(source="assignment.title")
    category = serializers.CharField(source="assignment.category.slug")
    max_points = PointsField()
    extra_credit_points = PointsField()
    max_points_by_level = serializers.DictField(child=PointsField())
    release_at = LocalDateTimeField(source="assignment.release_at", allow_null=True)
    released = serializers.BooleanField()
    due_at = LocalDateTimeField()
    grace_days = serializers.IntegerField(source="assignment.grace_days")
    grace_ends_at = LocalDateTimeField()
    after_grace = serializers.CharField(source="assignment.after_grace")
    collaboration = serializers.BooleanField(source="assignment.collaboration")
    anonymous_grading = serializers.BooleanField(
        source="assignment.anonymous_grading", help_text="TAs see students by pseudonym"
    )
    names_revealed = serializers.SerializerMethodField()
    group = serializers.BooleanField(source="assignment.group")
    group_size = serializers.SerializerMethodField()
    queue = serializers.SerializerMethodField()
    questions = QuestionOutput(many=True)
    my_deadline = MyDeadlineOutput(allow_null=True)

    def get_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        fields = super().get_fields()
        fields.update(hooks.api_fields())  # grading: my_grade
        return fields

    def get_names_revealed(self, row: AssignmentRow) -> bool | None:
        """Anonymous grading: whether the instructor revealed the names to the TAs (null on
        an assignment graded with names)."""
        a = row.assignment
        return a.names_revealed_at is not None if a.anonymous_grading else None

    def get_group_size(self, row: AssignmentRow) -> list[int] | None:
        """``[min, max]`` members for group work, else null."""
        a = row.assignment
        return [a.group_min, a.group_max] if a.group else None

    def get_queue(self, row: AssignmentRow) -> str | None:
        """``cpu`` or ``gpu`` when the assignment has an autograder, else null."""
        a = row.assignment
        return a.autograder_queue if a.autograder_bundle else None


class AssignmentListApi(APIView):
    """Released assignments (staff: all), with deadlines in the course's zone.

    ``max_points`` is the maximum at the caller's level (the sum of the questions required at
    that level; extra credit comes on top, in ``extra_credit_points``). Staff without a section
    get the larger of the two levels' maxima; ``max_points_by_level`` gives both.
    ``my_grade``: a student's grade once released (``points``, ``max_points``, ``excused``),
    else null (always null for staff)."""

    @extend_schema(responses=AssignmentOutput(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        tz = selectors.course_tz(enrollment.course)
        now = timezone.now()
        rows = selectors.assignment_rows(enrollment=enrollment, now=now)
        context = {"tz": tz, "enrollment": enrollment, "now": now}
        return Response(AssignmentOutput(rows, many=True, context=context).data)


# --- project groups -------------------------------------------------------------------------


class GroupOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "ProjectGroup"

    id = serializers.IntegerField()
    name = serializers.CharField()
    join_code = serializers.CharField()
    members = serializers.SerializerMethodField()
    locked = serializers.SerializerMethodField()

    def get_members(self, group: ProjectGroup) -> list[str]:
        return sorted(m.user.username for m in group.memberships.all())

    def get_locked(self, group: ProjectGroup) -> bool:
        """True once the group has handed work in: nobody joins or leaves any more."""
        return group.locked_at is not None


GROUP_CONFLICTS = (
    "already_in_group, group_name_taken, group_size, group_locked, no_group_work, "
    "group_work_closed, group_mixed_levels"
)


class GroupListCreateApi(APIView):
    """GET: the caller's group (a list of at most one); staff: every group of the course.
    POST {"name"}: a new group with the caller in it, and its ``join_code`` to share."""

    refusals = {"POST": {403: "permission_denied", 409: GROUP_CONFLICTS}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GroupCreate"

        name = serializers.CharField(max_length=100)

    @extend_schema(responses=GroupOutput(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        groups = selectors.group_list(enrollment=enrollment)
        return Response(GroupOutput(groups, many=True).data)

    @extend_schema(request=Input, responses={201: GroupOutput})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(enrollment=enrollment, name=data.validated_data["name"])
        return Response(GroupOutput(selectors.group_get(pk=group.pk)).data, status=201)


class GroupJoinApi(APIView):
    """POST {"join_code"}: joins that group of the course (again: no change)."""

    refusals = {"POST": {403: "permission_denied", 409: GROUP_CONFLICTS}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "GroupJoin"

        join_code = serializers.CharField(max_length=16)

    @extend_schema(request=Input, responses=GroupOutput)
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_join(
            enrollment=enrollment, join_code=data.validated_data["join_code"]
        )
        return Response(GroupOutput(selectors.group_get(pk=group.pk)).data)


class GroupLeaveApi(APIView):
    """POST: leaves the caller's group, until the group's first submission."""

    refusals = {"POST": {403: "permission_denied", 409: "group_locked"}}

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        services.group_leave(enrollment=enrollment)
        return Response(status=204)


# --- extensions -----------------------------------------------------------------------------


class ExtensionOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Extension"

    id = serializers.IntegerField()
    student = serializers.CharField(source="student.username")
    assignment = serializers.CharField(source="assignment.slug")
    due_at = LocalDateTimeField()
    grace_ends_at = serializers.SerializerMethodField()
    reference = serializers.CharField()
    granted_by = serializers.CharField(source="granted_by.username", allow_null=True, default=None)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_grace_ends_at(self, extension: Extension) -> str | None:
        """The grace period runs from the extended date."""
        tz = self.context["tz"]
        end = deadlines.grace_end(extension.due_at, extension.assignment.grace_days, tz)
        return iso(end, tz)


class LocalOrAwareDateTimeField(serializers.DateTimeField):
    """An ISO date-time; without an offset it is read in the course's zone. Only years
    from 1970 to 2999: a course's dates, not the year 714 (whose local time in the zone is
    its local mean time, an offset with seconds, which no ISO 8601 reader takes back), nor
    9999-12-31, whose grace end overflows."""

    FIRST_YEAR, LAST_YEAR = 1970, 2999

    def enforce_timezone(self, value: datetime) -> datetime:
        if not self.FIRST_YEAR <= value.year <= self.LAST_YEAR:
            raise serializers.ValidationError(
                f"Give a date between the years {self.FIRST_YEAR} and {self.LAST_YEAR}."
            )
        if value.tzinfo is None:
            return deadlines.localize(value, self.context["tz"])
        return value


class ExtensionListCreateApi(APIView):
    """GET: staff see every extension of the course, a student their own.
    POST (instructor): ``{"student", "assignment", "due_at", "reference"}``: a Dean of Students
    confirmed extension. ``reference`` is the confirmation's number and nothing else is
    stored: never send medical information. ``due_at`` without an offset is read in the
    course's zone. A second grant for the same student and assignment replaces the first
    (200 instead of 201)."""

    refusals = {
        "POST": {
            400: "invalid_reference, unknown_assignment, unknown_student",
            403: "permission_denied",
        }
    }

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "ExtensionGrant"

        student = serializers.CharField()
        assignment = serializers.CharField()
        due_at = LocalOrAwareDateTimeField()
        reference = serializers.CharField(max_length=40, trim_whitespace=True)

    @extend_schema(responses=ExtensionOutput(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        tz = selectors.course_tz(enrollment.course)
        extensions = selectors.extension_list(enrollment=enrollment)
        return Response(ExtensionOutput(extensions, many=True, context={"tz": tz}).data)

    @extend_schema(request=Input, responses={201: ExtensionOutput, 200: ExtensionOutput})
    def post(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
        tz = selectors.course_tz(enrollment.course)
        if enrollment.role != Role.INSTRUCTOR:
            raise PermissionDeniedError("Only the instructor grants extensions.")
        extra = sorted(set(request.data) - set(self.Input().fields))
        if extra:
            raise ApplicationError(
                f"Unexpected field{'s' if len(extra) > 1 else ''} {', '.join(extra)}: an "
                "extension takes only student, assignment, due_at and reference. Never send "
                "medical information; the course keeps the confirmation reference only.",
                code="invalid",
            )
        data = self.Input(data=request.data, context={"tz": tz})
        data.is_valid(raise_exception=True)
        extension, created = services.extension_grant(
            enrollment=enrollment,
            student=data.validated_data["student"],
            assignment_slug=data.validated_data["assignment"],
            due_at=data.validated_data["due_at"],
            reference=data.validated_data["reference"],
        )
        extension = selectors.extension_list(enrollment=enrollment).get(pk=extension.pk)
        return Response(
            ExtensionOutput(extension, context={"tz": tz}).data, status=201 if created else 200
        )


class HeadTasApi(APIView):
    """GET (staff): the course's head TAs (TAs who may assign graders), by username. PUT
    (instructor) ``{"usernames": [...]}``: exactly these are head TAs; someone who is not a
    TA of the course is 400 ``not_a_ta`` and nothing changes."""

    refusals = {"PUT": {400: "invalid, not_a_ta", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "HeadTasSet"

        usernames = serializers.ListField(child=serializers.CharField(max_length=150))

    class Output(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "HeadTas"

        usernames = serializers.ListField(child=serializers.CharField())

    def _render(self, enrollment: Enrollment) -> Response:
        usernames = selectors.head_ta_usernames(course_id=enrollment.course_id)
        return Response(self.Output({"usernames": usernames}).data)

    @extend_schema(responses=Output)
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        return self._render(enrollment)

    @extend_schema(request=Input, responses={200: Output})
    def put(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.head_tas_set(by=enrollment, usernames=data.validated_data["usernames"])
        return self._render(enrollment)


# --- anonymous grading --------------------------------------------------------------------------


class NamesRevealOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "NamesReveal"

    assignment = serializers.CharField(source="slug")
    anonymous_grading = serializers.BooleanField()
    names_revealed = serializers.SerializerMethodField()
    names_revealed_at = LocalDateTimeField(allow_null=True)
    names_revealed_by = serializers.CharField(
        source="names_revealed_by.username", allow_null=True, default=None
    )

    def get_names_revealed(self, assignment: Any) -> bool:
        return assignment.names_revealed_at is not None


class NamesRevealApi(APIView):
    """POST (instructor) ``{"revealed": true}``: an anonymously graded assignment's student
    names are shown to the TAs from now on; ``{"revealed": false}``: hidden again (TAs see
    pseudonyms). TAs: 403 ``permission_denied``; students: 404; an assignment graded with
    names: 400 ``not_anonymous``."""

    refusals = {"POST": {400: "not_anonymous, invalid", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "NamesRevealSet"

        revealed = serializers.BooleanField()

    @extend_schema(request=Input, responses={200: NamesRevealOutput})
    def post(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        now = timezone.now()
        assignment = selectors.assignment_get(enrollment=enrollment, slug=assignment_slug, now=now)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = services.assignment_names_reveal(
            enrollment=enrollment,
            assignment=assignment,
            revealed=data.validated_data["revealed"],
            now=now,
        )
        tz = selectors.course_tz(enrollment.course)
        return Response(NamesRevealOutput(assignment, context={"tz": tz}).data)


# --- the instructor console: assignment settings, categories, the change log --------------------


def _no_unknown_fields(data: Any, allowed: Any, what: str) -> None:
    """A body that is an object with only the fields ``allowed``; else 400 ``invalid`` naming
    the unknown ones (nothing is written)."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"Send {what} as a JSON object.")
    extra = sorted(set(data) - set(allowed))
    if extra:
        fields = {name: [f"Unknown field: {what} takes {', '.join(allowed)}."] for name in extra}
        raise ValidationFailed(
            f"Unknown field{'s' if len(extra) > 1 else ''} {', '.join(extra)}: {what} takes "
            f"{', '.join(allowed)}.",
            fields=fields,
        )


class QuestionPointsInput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "QuestionPointsSet"

    points = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=Decimal(0))


class AssignmentUpdateOutput(AssignmentOutput):
    """The assignment as the assignment list gives it, and ``affected_submissions``: how many
    stored submissions the change moved to another timing class (on time / grace / late)."""

    class Meta:
        ref_name = "AssignmentUpdate"

    affected_submissions = serializers.SerializerMethodField()

    def get_affected_submissions(self, row: AssignmentRow) -> int:
        return int(self.context.get("affected_submissions", 0))


class AssignmentSettingsApi(APIView):
    """PATCH (instructor): any of ``title``, ``release_at`` (null: released from the start),
    ``due_at``, ``grace_days``, ``after_grace``, ``points``, and ``questions``
    (``{"q1": {"points": 10}}``). Times with an offset are taken as they are; without one
    (``2026-12-01T23:59``) they are read in the course's zone. The answer is the assignment as
    the assignment list gives it, with ``affected_submissions``: a moved due date or grace
    period re-times the stored submissions, and this says how many changed timing class.
    TAs: 403 ``permission_denied``; students: 404. A bad value: 400 ``invalid`` with
    ``fields``, and nothing is changed."""

    refusals = {"PATCH": {400: "invalid", 403: "permission_denied"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "AssignmentSettingsSet"

        title = serializers.CharField(max_length=200, required=False)
        release_at = LocalOrAwareDateTimeField(required=False, allow_null=True)
        due_at = LocalOrAwareDateTimeField(required=False)
        grace_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
        after_grace = serializers.ChoiceField(choices=AfterGrace.choices, required=False)
        points = serializers.DecimalField(
            max_digits=8, decimal_places=2, min_value=Decimal(0), required=False
        )
        questions = serializers.DictField(child=QuestionPointsInput(), required=False)

    @extend_schema(request=Input, responses={200: AssignmentUpdateOutput})
    def patch(self, request: Request, course_slug: str, assignment_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        now = timezone.now()
        selectors.assignment_get(enrollment=enrollment, slug=assignment_slug, now=now)
        if enrollment.role != Role.INSTRUCTOR:
            raise PermissionDeniedError("Only the instructor changes an assignment's settings.")
        tz = selectors.course_tz(enrollment.course)
        _no_unknown_fields(request.data, list(self.Input().fields), "an assignment")
        data = self.Input(data=request.data, context={"tz": tz})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        questions = values.pop("questions", {})
        update = services.assignment_settings_update(
            enrollment=enrollment,
            assignment_slug=assignment_slug,
            values=values,
            question_points={slug: q["points"] for slug, q in questions.items()},
            now=now,
        )
        row = selectors.assignment_row(enrollment=enrollment, slug=assignment_slug, now=now)
        context = {
            "tz": tz,
            "enrollment": enrollment,
            "now": now,
            "affected_submissions": update.affected_submissions,
        }
        return Response(AssignmentUpdateOutput(row, context=context).data)


class CategoryItem(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "CategoryWeight"

    slug = serializers.CharField(max_length=64)
    weight = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100)
    )
    bonus = serializers.BooleanField(default=False)


class CategoryOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "Category"

    slug = serializers.CharField()
    weight = PointsField(help_text="percent of the final grade")
    bonus = serializers.BooleanField()


class CategoriesApi(APIView):
    """GET (staff): the course's categories in order, ``[{"slug", "weight", "bonus"}]``.
    PUT (instructor): the whole list, in the order wanted. Weights go from 0 to 100; the
    weights of the non-bonus categories must add up to 100 (400 ``weights_do_not_sum``, its
    message naming the sum). A new slug adds a category; one left out is removed, unless it
    still has assignments (400 ``category_in_use``). Nothing is changed on a refusal."""

    refusals = {
        "PUT": {400: "invalid, weights_do_not_sum, category_in_use", 403: "permission_denied"}
    }

    def _render(self, course_id: int) -> Response:
        return Response(
            CategoryOutput(selectors.category_list(course_id=course_id), many=True).data
        )

    @extend_schema(responses=CategoryOutput(many=True))
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        return self._render(enrollment.course_id)

    @extend_schema(request=CategoryItem(many=True), responses={200: CategoryOutput(many=True)})
    def put(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        if enrollment.role != Role.INSTRUCTOR:
            raise PermissionDeniedError("Only the instructor changes the categories.")
        if not isinstance(request.data, list):
            raise ValidationFailed(
                'Send the whole list of categories: [{"slug", "weight", "bonus"}, …].'
            )
        for index, item in enumerate(request.data):
            _no_unknown_fields(item, ["slug", "weight", "bonus"], f"categories[{index}]")
        data = CategoryItem(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        services.categories_set(
            enrollment=enrollment,
            items=[services.CategoryInput(**item) for item in data.validated_data],
            now=timezone.now(),
        )
        return self._render(enrollment.course_id)


class ConfigChangeOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "ConfigChange"

    at = LocalDateTimeField()
    by = serializers.CharField(source="by.username", allow_null=True, default=None)
    # A field named like a Field attribute: the metaclass takes it out of the class.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="portal (the settings page or the API) or load_course"
    )
    object = serializers.CharField(help_text='e.g. "assignment hw1", "category homework", "course"')
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True, help_text="null: there was no value")
    new = serializers.CharField(allow_null=True, help_text="null: the value was removed")


class ConfigChangeListApi(APIView):
    """GET (staff): every change made to the course's configuration (settings page, API, and
    ``load_course`` with ``by`` null), newest first; ``?limit=`` (default 100, at most 500)
    and ``?offset=``; the total in ``X-Total-Count``. Values are text, times in the course's
    zone."""

    @extend_schema(
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)],
        responses=ConfigChangeOutput(many=True),
    )
    def get(self, request: Request, course_slug: str) -> Response:
        enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
        qs = selectors.config_change_list(enrollment=enrollment)
        offset = _query_int(request, "offset", 0)
        limit = min(_query_int(request, "limit", selectors.CHANGES_SHOWN), selectors.CHANGES_MAX)
        rows = list(qs[offset : offset + limit])
        tz = selectors.course_tz(enrollment.course)
        response = Response(ConfigChangeOutput(rows, many=True, context={"tz": tz}).data)
        response["X-Total-Count"] = str(qs.count())
        return response


def _query_int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValidationFailed(
            f"{name} must be a whole number, 0 or more.", fields={name: ["Not a whole number."]}
        )
    return value
