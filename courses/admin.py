"""The Django admin for courses: every model, searchable and filterable, so an instructor can
find a student, a section or an assignment quickly. Changelists select their related rows in
the same query, so a page costs the same whatever its length."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from courses.models import (
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
    Question,
    Section,
)

EXTENSION_REFERENCE_HELP = (
    "Only the Dean of Students confirmation reference, e.g. DOS-2021-0042. Never store medical "
    "information, reasons or notes: the course keeps the reference and nothing else."
)


class CourseScopedChoiceField(ModelChoiceField):
    """Shows which course a category belongs to in a form's choices: category names
    (``homework``) repeat across courses."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.course.slug}: {obj}"


# Course, with its sections and categories


class SectionInline(admin.TabularInline):
    model = Section
    extra = 0
    fields = ("code", "level", "capacity", "links")
    show_change_link = True


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0
    fields = ("slug", "weight", "bonus", "position")


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
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
class SectionAdmin(admin.ModelAdmin):
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
class EnrollmentAdmin(admin.ModelAdmin):
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
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("slug", "course", "weight", "bonus", "position")
    list_filter = ("course", "bonus")
    search_fields = ("slug", "course__slug", "course__title")
    list_select_related = ("course",)
    autocomplete_fields = ("course",)
    ordering = ("course__slug", "position")


# Assignments and questions


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    fields = ("slug", "title", "points", "undergraduate", "graduate", "position")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
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
class QuestionAdmin(admin.ModelAdmin):
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


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
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


class GroupMembershipInline(admin.TabularInline):
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
class ProjectGroupAdmin(admin.ModelAdmin):
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
class GroupMembershipAdmin(admin.ModelAdmin):
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
