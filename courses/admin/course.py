"""The admin of a course, with its sections and categories inline, and of sections and
categories on their own."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from courses.admin.scoping import CourseScopedAdmin, CourseScopedInline
from courses.models import Category, Course, Section


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


@admin.register(Category)
class CategoryAdmin(CourseScopedAdmin):
    list_display = ("slug", "course", "weight", "bonus", "position")
    list_filter = ("course", "bonus")
    search_fields = ("slug", "course__slug", "course__title")
    list_select_related = ("course",)
    autocomplete_fields = ("course",)
    ordering = ("course__slug", "position")
