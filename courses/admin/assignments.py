"""The admin of assignments, with their questions inline, and of questions on their own."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest

from courses.admin.scoping import CourseScopedAdmin, CourseScopedChoiceField, CourseScopedInline
from courses.admin.zone import CourseZoneAdminMixin, _int
from courses.models import Assignment, Category, Question


class QuestionInline(CourseScopedInline):
    model = Question
    extra = 0
    fields = ("slug", "title", "points", "undergraduate", "graduate", "position")


@admin.register(Assignment)
class AssignmentAdmin(CourseZoneAdminMixin, CourseScopedAdmin):
    zone_fields = ("release_at", "due_at")
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
    readonly_fields = ("names_revealed_at", "names_revealed_by")
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
                    "Times are on the course's clock (its zone is named on each). The grace "
                    "period ends at the same local clock time grace_days later, in the "
                    "course's zone."
                ),
            },
        ),
        (
            "Collaboration and groups",
            {"fields": ("collaboration", "group", "group_min", "group_max")},
        ),
        (
            "Anonymous grading",
            {
                "fields": ("anonymous_grading", "names_revealed_at", "names_revealed_by"),
                "description": (
                    "TAs see students by pseudonym until the instructor reveals the names "
                    "(on the grading overview page)."
                ),
            },
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
                    "autograder_image",
                    "autograder_cpus",
                    "autograder_network",
                )
            },
        ),
    )

    def course_id_for_add(self, request: HttpRequest) -> int | None:
        return _int(request.POST.get("course") or request.GET.get("course"))

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
