"""The admin of project groups, with their members inline, and of memberships on their own.
A membership's course is always its group's, never typed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from courses.admin.scoping import CourseScopedAdmin, CourseScopedInline
from courses.models import GroupMembership, ProjectGroup


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
