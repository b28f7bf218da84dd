"""The admin of the roster: who is enrolled in which course, with which role and section."""

from __future__ import annotations

from django.contrib import admin

from courses.admin.scoping import CourseScopedAdmin
from courses.models import Enrollment


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
