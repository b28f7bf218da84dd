"""The admin of the roster: who is enrolled in which course, with which role and section."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from courses.admin.scoping import CourseScopedAdmin
from courses.models import Enrollment, RosterInvitation


@admin.register(Enrollment)
class EnrollmentAdmin(CourseScopedAdmin):
    list_display = ("user", "full_name", "course", "role", "section", "level", "invited")
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Enrollment]:
        """Each row with its roster invitation's times (``import_roster --invite``), in the
        list's one query."""
        invitation = RosterInvitation.objects.filter(
            course_id=OuterRef("course_id"), user_id=OuterRef("user_id")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                invited_at=Subquery(invitation.values("invited_at")[:1]),
                invitation_sent_at=Subquery(invitation.values("sent_at")[:1]),
            )
        )

    @admin.display(description="invited", ordering="invited_at")
    def invited(self, obj: Any) -> str:
        """When the roster import invited the person by email ("queued" until it is sent), or
        "-"; "has a password" once they can log in."""
        if obj.user.has_usable_password():
            return "has a password"
        if obj.invited_at is None:
            return "-"
        if obj.invitation_sent_at is None:
            return "queued"
        return timezone.localtime(obj.invitation_sent_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="name", ordering="user__last_name")
    def full_name(self, obj: Enrollment) -> str:
        return obj.user.get_full_name()

    @admin.display(description="level", ordering="section__level")
    def level(self, obj: Enrollment) -> str:
        return obj.section.get_level_display() if obj.section else "-"
