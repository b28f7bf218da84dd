"""The Django admin for courses: every model, searchable and filterable, so an instructor can
find a student, a section or an assignment quickly. Changelists select their related rows in
the same query, so a page costs the same whatever its length.

A superuser sees everything. Anyone else (an instructor or TA the roster import let in, see
``courses.services.staff_groups_ensure``) sees only the rows of the courses where they are an
instructor or a TA, may change or delete only those of the courses they teach, and picks
related rows (courses, sections, categories, assignments, groups, people) among those of the
courses they teach. A row of another course is not found (404). ``CourseScopedMixin`` does this
once for every admin and inline; the permissions themselves (a TA only views) come from the
staff groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Count, DateField, ForeignKey, Model, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest

from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
    Question,
    Role,
    Section,
)

EXTENSION_REFERENCE_HELP = (
    "Only the Dean of Students confirmation reference, e.g. DOS-2021-0042. Never store medical "
    "information, reasons or notes: the course keeps the reference and nothing else."
)

M = TypeVar("M", bound=Model)


class CourseScopedChoiceField(ModelChoiceField):
    """Shows which course a category belongs to in a form's choices: category names
    (``homework``) repeat across courses."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.course.slug}: {obj}"


# Who sees what


# How each model's rows reach their course ("pk": the course itself).
COURSE_LOOKUPS: dict[type[Model], str] = {
    Course: "pk",
    Section: "course",
    Enrollment: "course",
    Category: "course",
    Assignment: "course",
    Question: "assignment__course",
    Extension: "assignment__course",
    ProjectGroup: "course",
    GroupMembership: "course",
}
TEACHING_ROLES = frozenset({Role.INSTRUCTOR})


def in_courses(qs: QuerySet[M], *, user: Any, roles: frozenset[str]) -> QuerySet[M]:
    """The rows of ``qs`` that belong to courses where ``user`` has one of ``roles``; for
    people, those enrolled in such a course. A subquery, so it costs no query of its own. A
    model that belongs to no course gives nothing."""
    courses = Enrollment.objects.filter(user_id=user.pk, role__in=sorted(roles)).values("course_id")
    if qs.model is get_user_model():
        return qs.filter(pk__in=Enrollment.objects.filter(course__in=courses).values("user_id"))
    lookup = COURSE_LOOKUPS.get(qs.model)
    if lookup is None:
        return qs.none()
    return qs.filter(**{f"{lookup}__in": courses})


def course_id_of(obj: Model) -> int | None:
    """The id of the course a row belongs to (it may follow one foreign key: a question's
    assignment)."""
    *path, last = COURSE_LOOKUPS[type(obj)].split("__")
    if last == "pk":
        return obj.pk
    target: Any = obj
    for name in path:
        target = getattr(target, name)
    return getattr(target, f"{last}_id")


def _courses_taught(request: HttpRequest) -> set[int]:
    """The ids of the courses the caller teaches, read once per request."""
    taught: set[int] | None = getattr(request, "_courses_taught", None)
    if taught is None:
        taught = set(
            in_courses(Course.objects.all(), user=request.user, roles=TEACHING_ROLES).values_list(
                "pk", flat=True
            )
        )
        request._courses_taught = taught  # type: ignore[attr-defined]
    return taught


class ShownValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Offers the values found among the rows the admin shows. Django's own filter, for a field
    of a related model (``category__slug``), offers those of the whole related table, other
    courses' included."""

    def __init__(
        self, field: Any, request: Any, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = (
            model_admin.get_queryset(request)
            .order_by(field_path)
            .values_list(field_path, flat=True)
            .distinct()
        )


if TYPE_CHECKING:
    _AdminBase = BaseModelAdmin[Any]
else:
    _AdminBase = object


class CourseScopedMixin(_AdminBase):
    """For everyone but a superuser: rows of the caller's courses only (instructor or TA),
    changes and deletions only in the courses they teach, and form choices among the rows of
    the courses they teach. Used by every admin and inline here."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return in_courses(qs, user=request.user, roles=STAFF_ROLES)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if not request.user.is_superuser:
            related = db_field.remote_field.model
            queryset = kwargs.get("queryset")
            if queryset is None:
                queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
            if queryset is None:
                queryset = related._default_manager.all()
            lookup = COURSE_LOOKUPS.get(related, "pk")
            if lookup != "pk":  # the choices' labels name the course
                queryset = queryset.select_related(lookup)
            kwargs["queryset"] = in_courses(queryset, user=request.user, roles=TEACHING_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request: HttpRequest) -> Any:
        # The autocomplete view looks people up in the user admin, which only a superuser may
        # use; a course's choices are few enough for a plain select.
        if request.user.is_superuser:
            return super().get_autocomplete_fields(request)
        return ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.teaches(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self.teaches(request, obj)

    def teaches(self, request: HttpRequest, obj: Model | None) -> bool:
        """Whether the caller teaches the course of ``obj`` (for an inline: of its parent);
        with no object, the permission alone decides."""
        if obj is None or request.user.is_superuser:
            return True
        return course_id_of(obj) in _courses_taught(request)


class CourseScopedAdmin(CourseScopedMixin, admin.ModelAdmin):
    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not request.user.is_superuser:
            # Outside the caller's courses, or gone: either way, not found.
            raise Http404(f"No {self.opts.verbose_name} with this id in your courses.")
        return obj

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [self._scoped_filter(item) for item in filters]

    def _scoped_filter(self, item: Any) -> Any:
        """A list filter that offers only values of the caller's rows: a related row among
        those the rows refer to, a related model's field among the values the rows have."""
        path, filter_class = item if isinstance(item, tuple) else (item, None)
        if not isinstance(path, str):
            return item  # a SimpleListFilter: its own lookups
        field = get_fields_from_path(self.model, path)[-1]
        if field.is_relation:
            return (path, admin.RelatedOnlyFieldListFilter)
        takes_all_values = filter_class is admin.AllValuesFieldListFilter or (
            filter_class is None
            and not field.choices
            and not isinstance(field, BooleanField | DateField)
        )
        if "__" in path and takes_all_values:
            return (path, ShownValuesFieldListFilter)
        return item


class CourseScopedInline(CourseScopedMixin, admin.TabularInline):
    def has_add_permission(self, request: HttpRequest, obj: Any) -> bool:  # type: ignore[override]
        return super().has_add_permission(request, obj) and self.teaches(request, obj)


# Course, with its sections and categories


class SectionInline(CourseScopedInline):
    model = Section
    extra = 0
    fields = ("code", "level", "capacity", "links")
    show_change_link = True


class CategoryInline(CourseScopedInline):
    model = Category
    extra = 0
    fields = ("slug", "weight", "bonus", "position")


@admin.register(Course)
class CourseAdmin(CourseScopedAdmin):
    list_display = ("slug", "title", "term", "timezone", "registration_ends", "regrade_days")
    list_filter = ("term", "timezone")
    search_fields = ("slug", "title", "term")
    ordering = ("slug",)
    inlines = (SectionInline, CategoryInline)
    fieldsets = (
        (None, {"fields": ("slug", "title", "term")}),
        (
            "Policies",
            {
                "fields": ("timezone", "registration_ends", "regrade_days"),
                "description": "Times are stored in UTC and shown to people in the course's zone.",
            },
        ),
        ("Links", {"fields": ("links",)}),
    )


@admin.register(Section)
class SectionAdmin(CourseScopedAdmin):
    list_display = ("code", "course", "level", "capacity", "enrolled")
    list_filter = ("course", "level")
    search_fields = ("code", "course__slug", "course__title")
    list_select_related = ("course",)
    autocomplete_fields = ("course",)
    ordering = ("course__slug", "code")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Section]:
        return super().get_queryset(request).annotate(_enrolled=Count("enrollments", distinct=True))

    @admin.display(description="enrolled", ordering="_enrolled")
    def enrolled(self, obj: Section) -> int:
        return getattr(obj, "_enrolled", 0)


# Roster


@admin.register(Enrollment)
class EnrollmentAdmin(CourseScopedAdmin):
    list_display = ("user", "full_name", "course", "role", "section", "level")
    list_filter = ("course", "role", "section__level", "section")
    search_fields = (
        "user__username",
        "user__email",
        "user__first_name",
        "user__last_name",
        "course__slug",
        "section__code",
    )
    list_select_related = ("user", "course", "section")
    autocomplete_fields = ("user", "course", "section")
    ordering = ("course__slug", "user__username")

    @admin.display(description="name", ordering="user__last_name")
    def full_name(self, obj: Enrollment) -> str:
        return obj.user.get_full_name()

    @admin.display(description="level", ordering="section__level")
    def level(self, obj: Enrollment) -> str:
        return obj.section.get_level_display() if obj.section else "-"


@admin.register(Category)
class CategoryAdmin(CourseScopedAdmin):
    list_display = ("slug", "course", "weight", "bonus", "position")
    list_filter = ("course", "bonus")
    search_fields = ("slug", "course__slug", "course__title")
    list_select_related = ("course",)
    autocomplete_fields = ("course",)
    ordering = ("course__slug", "position")


# Assignments and questions


class QuestionInline(CourseScopedInline):
    model = Question
    extra = 0
    fields = ("slug", "title", "points", "undergraduate", "graduate", "position")


@admin.register(Assignment)
class AssignmentAdmin(CourseScopedAdmin):
    list_display = (
        "slug",
        "title",
        "course",
        "category",
        "release_at",
        "due_at",
        "grace_days",
        "after_grace",
        "collaboration",
        "group",
        "autograder_queue",
    )
    list_filter = (
        "course",
        ("category__slug", admin.AllValuesFieldListFilter),
        "autograder_queue",
        "after_grace",
        "collaboration",
        "group",
    )
    search_fields = ("slug", "title", "course__slug", "course__title", "category__slug")
    list_select_related = ("course", "category")
    autocomplete_fields = ("course",)
    date_hierarchy = "due_at"
    ordering = ("course__slug", "position", "due_at")
    inlines = (QuestionInline,)
    fieldsets = (
        (None, {"fields": ("course", "slug", "title", "category", "position", "points")}),
        (
            "Deadlines",
            {
                "fields": ("release_at", "due_at", "grace_days", "after_grace"),
                "description": (
                    "The grace period ends at the same local clock time grace_days later, in "
                    "the course's zone."
                ),
            },
        ),
        (
            "Collaboration and groups",
            {"fields": ("collaboration", "group", "group_min", "group_max")},
        ),
        ("Readiness", {"fields": ("readiness_threshold",)}),
        (
            "Autograder",
            {
                "fields": (
                    "autograder_bundle",
                    "autograder_queue",
                    "autograder_timeout_s",
                    "autograder_memory_mb",
                )
            },
        ),
    )

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "category":
            kwargs["queryset"] = Category.objects.select_related("course")
            kwargs["form_class"] = CourseScopedChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Question)
class QuestionAdmin(CourseScopedAdmin):
    list_display = (
        "slug",
        "assignment",
        "title",
        "points",
        "undergraduate",
        "graduate",
        "position",
    )
    list_filter = ("assignment__course", "undergraduate", "graduate")
    search_fields = (
        "slug",
        "title",
        "assignment__slug",
        "assignment__title",
        "assignment__course__slug",
    )
    list_select_related = ("assignment__course",)
    autocomplete_fields = ("assignment",)
    ordering = ("assignment__course__slug", "assignment__position", "position")


# Extensions: a Dean of Students confirmation reference, nothing else


class ExtensionForm(forms.ModelForm):
    class Meta:
        model = Extension
        fields = ("assignment", "student", "due_at", "reference", "granted_by")
        help_texts = {
            "reference": EXTENSION_REFERENCE_HELP,
            "due_at": "The student's new due date; the usual grace period runs from it.",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        assignment, student = cleaned.get("assignment"), cleaned.get("student")
        if assignment is None or student is None:
            return cleaned
        submits = Enrollment.objects.filter(
            course_id=assignment.course_id, user=student, role__in=sorted(SUBMITTING_ROLES)
        )
        if not submits.exists():
            raise ValidationError(
                {"student": f"{student} hands no work in to {assignment.course.slug}."}
            )
        return cleaned


@admin.register(Extension)
class ExtensionAdmin(CourseScopedAdmin):
    form = ExtensionForm
    list_display = (
        "student",
        "assignment",
        "course",
        "due_at",
        "reference",
        "granted_by",
        "granted_at",
    )
    list_filter = ("assignment__course", "assignment__category__slug")
    search_fields = (
        "student__username",
        "student__first_name",
        "student__last_name",
        "assignment__slug",
        "assignment__course__slug",
        "reference",
    )
    list_select_related = ("student", "assignment__course", "granted_by")
    autocomplete_fields = ("assignment", "student", "granted_by")
    readonly_fields = ("granted_at",)
    date_hierarchy = "due_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "assignment",
                    "student",
                    "due_at",
                    "reference",
                    "granted_by",
                    "granted_at",
                ),
                "description": (
                    "Only Dean of Students confirmed extensions. No medical information is to "
                    "be stored here: record the Dean of Students confirmation reference only."
                ),
            },
        ),
    )

    @admin.display(description="course", ordering="assignment__course__slug")
    def course(self, obj: Extension) -> str:
        return obj.assignment.course.slug

    def save_model(self, request: HttpRequest, obj: Extension, form: Any, change: bool) -> None:
        if obj.granted_by_id is None:
            obj.granted_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


# Project groups


class GroupMembershipForm(forms.ModelForm):
    """``course`` repeats the group's course (so the database can keep one group per student
    per course); it is filled in from the group, never typed."""

    class Meta:
        model = GroupMembership
        fields = ("group", "user")

    def __init__(self, *args: Any, parent_group: ProjectGroup | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # In the group's inline, the group being edited (it may not be saved yet).
        self.parent_group = parent_group

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        group = cleaned.get("group") or self.parent_group
        user = cleaned.get("user")
        if group is None or group.course_id is None or user is None:
            return cleaned
        self.instance.course_id = group.course_id
        taken = GroupMembership.objects.filter(course_id=group.course_id, user=user).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise ValidationError({"user": f"{user} is already in a project group in this course."})
        return cleaned


class GroupMembershipFormSet(forms.BaseInlineFormSet):
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        kwargs["parent_group"] = self.instance
        return kwargs


class GroupMembershipInline(CourseScopedInline):
    model = GroupMembership
    form = GroupMembershipForm
    formset = GroupMembershipFormSet
    extra = 0
    fields = ("user", "joined_at")
    readonly_fields = ("joined_at",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[GroupMembership]:
        return super().get_queryset(request).select_related("user")


@admin.register(ProjectGroup)
class ProjectGroupAdmin(CourseScopedAdmin):
    list_display = ("name", "course", "join_code", "members", "created_at")
    list_filter = ("course",)
    search_fields = ("name", "join_code", "course__slug", "memberships__user__username")
    list_select_related = ("course",)
    autocomplete_fields = ("course",)
    readonly_fields = ("created_at",)
    inlines = (GroupMembershipInline,)
    ordering = ("course__slug", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProjectGroup]:
        return super().get_queryset(request).annotate(_members=Count("memberships", distinct=True))

    @admin.display(description="members", ordering="_members")
    def members(self, obj: ProjectGroup) -> int:
        return getattr(obj, "_members", 0)


@admin.register(GroupMembership)
class GroupMembershipAdmin(CourseScopedAdmin):
    form = GroupMembershipForm
    list_display = ("user", "group", "course", "joined_at")
    list_filter = ("course",)
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "group__name",
        "group__join_code",
        "course__slug",
    )
    list_select_related = ("user", "group__course", "course")
    autocomplete_fields = ("group", "user")
    readonly_fields = ("course", "joined_at")
    fields = ("group", "user", "course", "joined_at")
    ordering = ("course__slug", "group__name", "user__username")
