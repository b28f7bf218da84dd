"""The admin of extensions: a Dean of Students confirmation reference, nothing else."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from courses.admin.scoping import CourseScopedAdmin
from courses.admin.zone import CourseZoneAdminMixin, _int
from courses.models import SUBMITTING_ROLES, Assignment, Enrollment, Extension
from courses.references import reference_problem

EXTENSION_REFERENCE_HELP = (
    "Only the Dean of Students confirmation reference, e.g. DOS-2021-0042, as the course's "
    "extension_reference_pattern allows. Never store medical information, reasons or notes: "
    "the course keeps the reference and nothing else."
)


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
        reference = cleaned.get("reference")
        if reference is not None:
            problem = reference_problem(reference, assignment.course.extension_reference_pattern)
            if problem:
                raise ValidationError({"reference": problem})
        return cleaned


@admin.register(Extension)
class ExtensionAdmin(CourseZoneAdminMixin, CourseScopedAdmin):
    form = ExtensionForm
    zone_fields = ("due_at",)
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

    def course_id_for_add(self, request: HttpRequest) -> int | None:
        assignment = _int(request.POST.get("assignment") or request.GET.get("assignment"))
        if assignment is None:
            return None
        found: int | None = (
            Assignment.objects.filter(pk=assignment).values_list("course_id", flat=True).first()
        )
        return found

    @admin.display(description="course", ordering="assignment__course__slug")
    def course(self, obj: Extension) -> str:
        return obj.assignment.course.slug

    def save_model(self, request: HttpRequest, obj: Extension, form: Any, change: bool) -> None:
        if obj.granted_by_id is None:
            obj.granted_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
