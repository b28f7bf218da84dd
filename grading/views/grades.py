"""Grade pages: a student's own grades, the staff gradebook, releasing and unreleasing an
assignment's grades, staff setting a question's points or excusing a student, accepting a
result that awaits review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from grading import selectors, services
from portal.errors import ValidationFailed
from portal.pages import perform, typed_number
from submissions import selectors as submission_selectors


@login_required
@require_GET
def my_grades(request: HttpRequest, course_slug: str) -> HttpResponse:
    """A student's (or waitlisted student's) own grades: each released assignment's points at
    their level, each category, the final percent so far and, when PS0 flags them, a notice.
    Assignments not released yet are listed without scores. Staff get a pointer to the
    gradebook; sit-ins get 404, as from the API."""
    enrollment = course_selectors.enrollment_get(user=request.user, course_slug=course_slug)
    course = enrollment.course
    context: dict[str, Any] = {
        "enrollment": enrollment,
        "course": course,
        "tz": course_selectors.course_tz(course),
    }
    if enrollment.is_staff_role:
        return render(request, "grading/my_grades_staff.html", context)
    now = timezone.now()
    grades = selectors.student_grades(enrollment=enrollment, now=now)
    released = {row.assignment.pk for row in grades.assignments}
    rows = course_selectors.assignment_rows(enrollment=enrollment, now=now)
    readiness = [
        row
        for row in grades.assignments
        if row.assignment.readiness_threshold is not None
        and row.grade.percent is not None
        and row.grade.percent <= row.assignment.readiness_threshold
    ]
    context.update(
        grades=grades,
        report=grades.report,
        not_released=[row for row in rows if row.assignment.pk not in released],
        readiness=readiness[0] if readiness else None,
    )
    return render(request, "grading/my_grades.html", context)


@login_required
@require_POST
def grades_release(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor releases an assignment's grades from its page; the regrade window
    starts. TAs are refused (403), everyone else gets 404."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    now = timezone.now()
    assignment = course_selectors.assignment_get(
        enrollment=enrollment, slug=assignment_slug, now=now
    )
    services.grades_release(enrollment=enrollment, assignment=assignment, now=now)
    closes = selectors.regrade_window_closes_at(assignment)
    tz = course_selectors.course_tz(enrollment.course)
    until = (
        f"; regrade requests are open until {closes.astimezone(tz):%a %b %-d %Y, %-I:%M %p %Z}"
        if closes is not None
        else ""
    )
    messages.success(request, f"The grades of {assignment.title} are released{until}.")
    return redirect("submissions:assignment_detail", enrollment.course.slug, assignment.slug)


@login_required
@require_POST
def grades_unrelease(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor hides an assignment's grades again from its page (regrade requests
    close until the next release). TAs are refused (403), everyone else gets 404."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    now = timezone.now()
    assignment = course_selectors.assignment_get(
        enrollment=enrollment, slug=assignment_slug, now=now
    )
    services.grades_unrelease(enrollment=enrollment, assignment=assignment, now=now)
    messages.success(
        request,
        f"The grades of {assignment.title} are hidden from students again; releasing them "
        "later starts a new regrade window.",
    )
    return redirect("submissions:assignment_detail", enrollment.course.slug, assignment.slug)


@login_required
@require_POST
def grade_set(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Staff set a question's points (an override; empty removes it) and adjustment from a
    receipt (``question``, ``points``, ``adjustment``), or excuse the owner from the whole
    assignment (``excused``: true or false), for the submitter or every member of its
    group; back to the receipt with the new grade or the refusal."""
    submission, enrollment = submission_selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    data = request.POST

    def save() -> None:
        for student in services.graded_students(submission):
            if "excused" in data:
                services.grade_set(
                    by=enrollment,
                    assignment=submission.assignment,
                    student=student,
                    excused=data["excused"] == "true",
                )
                continue
            services.grade_set(
                by=enrollment,
                assignment=submission.assignment,
                student=student,
                question=data.get("question", ""),
                points=typed_number(data.get("points", ""), "points", empty=None),
                adjustment=typed_number(data.get("adjustment", ""), "adjustment", empty=Decimal(0))
                or Decimal(0),
            )

    perform(request, save, lambda _: "Grade saved.")
    return redirect(reverse("submissions:receipt", args=[submission.pk]) + "#grade")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else fallback


@login_required
@require_POST
def result_accept(request: HttpRequest, job_id: int) -> HttpResponse:
    """Staff accept a result that awaits review; back where they came from."""
    enrollment = selectors.job_enrollment_get(user=request.user, job_id=job_id)
    perform(
        request,
        lambda: services.result_accept(enrollment=enrollment, job_id=job_id, now=timezone.now()),
        lambda _: "Result accepted: its scores count now, each within its question's points.",
    )
    return redirect(
        _safe_next(request, reverse("courses:course_detail", args=[enrollment.course.slug]))
    )


GRADEBOOK_PAGE_SIZE = 50


@login_required
@require_GET
def gradebook(request: HttpRequest, course_slug: str) -> HttpResponse:
    """TAs and instructors (404 for everyone else): every student's grade on every
    assignment (released or not), the final percent over released grades and the readiness
    flag, 50 students a page, filtered by section and a piece of a name; the Canvas CSV per
    section."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    course = enrollment.course
    section = request.GET.get("section", "").strip()
    search = request.GET.get("search", "").strip()
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    book = selectors.gradebook_page(
        enrollment=enrollment,
        now=timezone.now(),
        page=page,
        page_size=GRADEBOOK_PAGE_SIZE,
        section=section or None,
        search=search or None,
    )
    pages = max((book.count + GRADEBOOK_PAGE_SIZE - 1) // GRADEBOOK_PAGE_SIZE, 1)
    query = urlencode({k: v for k, v in {"section": section, "search": search}.items() if v})
    return render(
        request,
        "grading/gradebook.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": course_selectors.course_tz(course),
            "book": book,
            "withheld_titles": [a.title for a in book.assignments if a.slug in book.withheld.slugs],
            "filters": {"section": section, "search": search},
            "query": query,
            "page": page,
            "pages": pages,
            "sections": list(course.sections.all()),
        },
    )


@login_required
@require_POST
def grades_import(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor imports a grades CSV (``file``) from the assignment's page: all or
    nothing, the refusal naming the bad lines. TAs are refused (403), others get 404."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    assignment = course_selectors.assignment_get(
        enrollment=enrollment, slug=assignment_slug, now=timezone.now()
    )
    upload = request.FILES.get("file")

    def run() -> services.Imported:
        if upload is None:
            raise ValidationFailed("Choose a CSV file to import.")
        return services.grades_import(
            by=enrollment,
            assignment=assignment,
            data=upload.read(services.GRADES_IMPORT_MAX_BYTES + 1),
            filename=upload.name or "",
        )

    perform(
        request,
        run,
        lambda done: (
            f"Imported {done.grades} grade{'s' if done.grades != 1 else ''} of "
            f"{done.students} student{'s' if done.students != 1 else ''} into {assignment.title}."
        ),
    )
    return redirect("submissions:assignment_detail", enrollment.course.slug, assignment.slug)
