"""The courses pages: thin, over the same selectors as the API."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from courses import deadlines, hooks, references, selectors, services
from courses.models import Enrollment, Role
from portal.errors import ApplicationError, NotFound


@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    enrollments = selectors.enrollment_list_for_user(user=request.user)
    return render(request, "courses/my_courses.html", {"enrollments": enrollments})


@login_required
def course_detail(request: HttpRequest, course_slug: str) -> HttpResponse:
    enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
    course = enrollment.course
    sections = list(course.sections.all())
    section_counts = selectors.section_counts(course=course)
    return render(
        request,
        "courses/course_detail.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": selectors.course_tz(course),
            "sections": sections,
            "section_counts": section_counts,
            # (section, {role: count}) pairs: templates cannot index a dict by a variable.
            "section_rows": [(s, section_counts.get(s.id, {})) for s in sections],
            "categories": list(course.categories.all()),
            "staff": selectors.course_staff(course=course),
            "rows": selectors.assignment_rows(enrollment=enrollment, now=timezone.now()),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def course_export(request: HttpRequest, course_slug: str) -> HttpResponse:
    """The course as its TOML config, the same text as ``manage.py export_course`` (instructor;
    others 404)."""
    enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
    if enrollment.role != Role.INSTRUCTOR:
        raise NotFound("Only the course's instructors can download its config.")
    course = enrollment.course
    response = HttpResponse(
        services.course_export(course=course), content_type="application/toml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{course.slug}.toml"'
    return response


@login_required
def assignment_list(request: HttpRequest, course_slug: str) -> HttpResponse:
    enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
    now = timezone.now()
    rows = selectors.assignment_rows(enrollment=enrollment, now=now)
    return render(
        request,
        "courses/assignment_list.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "tz": selectors.course_tz(enrollment.course),
            "rows": [(row, row.time_left(now)) for row in rows],
            "now": now,
            # What other apps add (grading: the caller's released grades): courses.hooks.
            **hooks.list_context(enrollment=enrollment, now=now),
        },
    )


def _refusal_page(
    request: HttpRequest, template: str, context: dict[str, Any], refusal: ApplicationError
) -> HttpResponse:
    return render(request, template, {**context, "error": refusal}, status=refusal.status)


# --- project groups ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def groups(request: HttpRequest, course_slug: str) -> HttpResponse:
    """A student's project group (members and join code) or the forms to create or join one,
    and a Leave button; staff see every group of the course. POST ``action``: ``create``
    (``name``), ``join`` (``join_code``) or ``leave``."""
    enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "create":
                group = services.group_create(
                    enrollment=enrollment, name=request.POST.get("name", "")
                )
                messages.success(
                    request, f"Group {group.name} created. Share its join code with your team."
                )
            elif action == "join":
                group = services.group_join(
                    enrollment=enrollment, join_code=request.POST.get("join_code", "")
                )
                messages.success(request, f"You are in {group.name}.")
            elif action == "leave":
                services.group_leave(enrollment=enrollment)
                messages.success(request, "You left your project group.")
            else:
                raise ApplicationError("Choose create, join or leave.", code="invalid")
        except ApplicationError as refusal:
            return _refusal_page(
                request,
                "courses/groups.html",
                {**_groups_context(enrollment), "form": request.POST},
                refusal,
            )
        return redirect("courses:groups", course_slug=course_slug)
    return render(request, "courses/groups.html", _groups_context(enrollment))


def _groups_context(enrollment: Enrollment) -> dict[str, Any]:
    rows = selectors.assignment_rows(enrollment=enrollment, now=timezone.now())
    return {
        "enrollment": enrollment,
        "course": enrollment.course,
        "tz": selectors.course_tz(enrollment.course),
        "group_assignments": [row.assignment for row in rows if row.assignment.group],
        "groups": list(selectors.group_list(enrollment=enrollment)),
        "my_group": (selectors.my_group(enrollment=enrollment) if enrollment.can_submit else None),
    }


# --- extensions ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def extensions(request: HttpRequest, course_slug: str) -> HttpResponse:
    """Dean of Students confirmed extensions. The instructor grants and revokes them (POST
    ``action``: ``grant`` with ``student``, ``assignment``, ``due_at`` as a datetime-local read
    in the course's zone and ``reference``; ``revoke`` with ``extension``); TAs read the
    list; a student sees their own."""
    enrollment = selectors.enrollment_get(user=request.user, course_slug=course_slug)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "grant":
                extension, created = services.extension_grant(
                    enrollment=enrollment,
                    student=request.POST.get("student", ""),
                    assignment_slug=request.POST.get("assignment", ""),
                    due_at=_local_datetime(
                        request.POST.get("due_at", ""), selectors.course_tz(enrollment.course)
                    ),
                    reference=request.POST.get("reference", ""),
                )
                messages.success(
                    request,
                    f"Extension {'recorded' if created else 'updated'} for "
                    f"{extension.student.username} on {extension.assignment.title}.",
                )
            elif action == "revoke":
                services.extension_revoke(
                    enrollment=enrollment, extension_id=_int(request.POST.get("extension"))
                )
                messages.success(request, "Extension revoked.")
            else:
                raise ApplicationError("Choose grant or revoke.", code="invalid")
        except ApplicationError as refusal:
            return _refusal_page(
                request,
                "courses/extensions.html",
                {**_extensions_context(enrollment), "form": request.POST},
                refusal,
            )
        return redirect("courses:extensions", course_slug=course_slug)
    return render(request, "courses/extensions.html", _extensions_context(enrollment))


def _local_datetime(value: str, tz: tzinfo) -> datetime:
    """A datetime-local value ('2021-02-17T23:59') read as the course's clock time; one with
    an offset is taken as it is."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApplicationError(
            "Give the new due date as a date and a time, e.g. 2021-02-17T23:59.",
            code="invalid",
        ) from None
    return moment if moment.tzinfo is not None else deadlines.localize(moment, tz)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise NotFound("There is no such extension.") from None


def _extensions_context(enrollment: Enrollment) -> dict[str, Any]:
    tz = selectors.course_tz(enrollment.course)
    rows = [
        (e, deadlines.grace_end(e.due_at, e.assignment.grace_days, tz))
        for e in selectors.extension_list(enrollment=enrollment)
    ]
    can_grant = enrollment.role == Role.INSTRUCTOR
    return {
        "enrollment": enrollment,
        "course": enrollment.course,
        "tz": tz,
        "rows": rows,
        "can_grant": can_grant,
        "reference_rule": references.reference_rule(enrollment.course.extension_reference_pattern),
        "assignments": (
            [
                row.assignment
                for row in selectors.assignment_rows(enrollment=enrollment, now=timezone.now())
            ]
            if can_grant
            else []
        ),
    }


# --- the profile page: email preferences -------------------------------------------------------

NOTIFICATION_LABELS = {
    "grades_released": "An assignment's grades are released",
    "regrade_answered": "My regrade request is answered",
    "regrade_opened": "A regrade request is opened that I grade (TAs)",
}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """A person's profile: which emails they want (POST: a checkbox per kind, ticked = on)."""
    assert request.user.is_authenticated
    if request.method == "POST":
        services.notification_preferences_set(
            user=request.user, **{kind: kind in request.POST for kind in NOTIFICATION_LABELS}
        )
        messages.success(request, "Your email preferences are saved.")
        return redirect("courses:profile")
    preference = selectors.notification_preference_get(user=request.user)
    kinds = [
        (kind, label, getattr(preference, kind)) for kind, label in NOTIFICATION_LABELS.items()
    ]
    return render(request, "courses/profile.html", {"kinds": kinds})
