"""Grade pages: a student's own grades, the staff gradebook, releasing and unreleasing an
assignment's grades, staff setting a question's points or excusing a student, accepting a
result that awaits review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from courses.models import Assignment, Level, Role
from grading import selectors, services
from portal.errors import ApplicationError, ValidationFailed
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


@dataclass(frozen=True)
class _Column:
    """A sortable column head of the gradebook page: its sort key, its label, the link that
    sorts by it (the other way when it is the sort now) and its ``aria-sort``."""

    key: str
    label: str
    href: str
    aria_sort: str | None
    num: bool = True
    assignment: Assignment | None = None
    expand_href: str = ""
    expanded: bool = False


def _gradebook_columns(
    book: selectors.GradebookPage, link: Callable[..., str], expand: str
) -> list[_Column]:
    """The sortable heads: student, section, each assignment (with its link to show or hide
    its questions, none when its numbers are withheld), each category's percent and the
    final percent (these two not when withheld: they cannot be sorted by)."""
    f = book.filters

    def column(key: str, label: str, **more: Any) -> _Column:
        href, aria = _sort_link(f, key, link)
        return _Column(key, label, href, aria, **more)

    hidden = book.withheld.slugs
    columns = [column("name", "Student", num=False), column("section", "Section", num=False)]
    for a in book.assignments:
        more: dict[str, Any] = {"assignment": a, "expanded": a.slug == expand}
        if a.slug not in hidden:
            more["expand_href"] = link(expand=None if a.slug == expand else a.slug)
        columns.append(column(f"assignment:{a.slug}", a.title, num=True, **more))
    return columns


def _summary_columns(book: selectors.GradebookPage, link: Callable[..., str]) -> list[_Column]:
    """Each category's percent and the final percent; no links when they are withheld."""
    f = book.filters
    keys = [
        (f"category:{c.slug}", f"{c.slug.replace('-', ' ').capitalize()} %")
        for c in book.categories
    ]
    keys.append(("final_percent", "Final %"))
    if book.withheld.percent:
        return [_Column(k, label, "", None, True) for k, label in keys]
    return [_Column(k, label, *_sort_link(f, k, link), True) for k, label in keys]


def _gradebook_rows(book: selectors.GradebookPage, expand: str) -> list[dict[str, Any]]:
    """Each row's cells for the page: an assignment's question cells follow it when it is
    expanded (one per question of the assignment, None where not offered at the level);
    the category percents in the course's order (None when withheld or not counted)."""
    out = []
    questions = next((list(a.questions.all()) for a in book.assignments if a.slug == expand), [])
    for row in book.rows:
        percents = {c.slug: c.percent for c in row.report.categories}
        cells = []
        for c in row.cells:
            by_slug = {q.slug: q for q in c.questions}
            shown = (
                [by_slug.get(q.slug) for q in questions] if c.assignment.slug == expand else None
            )
            cells.append({"cell": c, "questions": shown})
        out.append(
            {
                "row": row,
                "cells": cells,
                "categories": [percents.get(k.slug) for k in book.categories],
            }
        )
    return out


@login_required
@require_GET
def gradebook(request: HttpRequest, course_slug: str) -> HttpResponse:
    """TAs and instructors (404 for everyone else): every student's grade on every
    assignment (released or not) with its questions on demand (``?expand=<slug>``), each
    category's percent, the final percent over released grades and the readiness flag, 50
    students a page, filtered (section, level, role, flagged, missing, a piece of a name) and
    sorted by any column as the API is (``selectors.GradebookFilters``); the Canvas CSV per
    section. A filter the selector refuses shows its message over the unfiltered book (400)."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    course = enrollment.course
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    now = timezone.now()
    status = 200
    try:
        filters = selectors.GradebookFilters.from_params(request.GET)
        book = selectors.gradebook_page(
            enrollment=enrollment,
            now=now,
            page=page,
            page_size=GRADEBOOK_PAGE_SIZE,
            filters=filters,
        )
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        status, page = 400, 1
        book = selectors.gradebook_page(
            enrollment=enrollment, now=now, page=1, page_size=GRADEBOOK_PAGE_SIZE
        )
    f = book.filters
    expand = request.GET.get("expand", "").strip()
    if expand in book.withheld.slugs or expand not in {a.slug for a in book.assignments}:
        expand = ""
    state = {
        "section": f.section,
        "level": f.level,
        "role": f.role,
        "flagged": "true" if f.flagged else None,
        "missing": f.missing,
        "search": f.search,
        "sort": None if f.sort == "name" else f.sort,
        "order": None if f.order == "asc" else f.order,
        "expand": expand or None,
        "page": None,
    }

    def link(**changes: str | None) -> str:
        """This page's address with ``changes`` (None drops a parameter)."""
        params = {**state, **changes}
        return "?" + urlencode({k: v for k, v in params.items() if v})

    pages = max((book.count + GRADEBOOK_PAGE_SIZE - 1) // GRADEBOOK_PAGE_SIZE, 1)
    return render(
        request,
        "grading/gradebook.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": course_selectors.course_tz(course),
            "book": book,
            "withheld_titles": [a.title for a in book.assignments if a.slug in book.withheld.slugs],
            "filters": f,
            "filtered": any((f.section, f.search, f.level, f.role, f.flagged, f.missing)),
            "columns": _gradebook_columns(book, link, expand),
            "summary_columns": _summary_columns(book, link),
            "expanded_questions": next(
                (list(a.questions.all()) for a in book.assignments if a.slug == expand), []
            ),
            "expand": expand,
            "table": _gradebook_rows(book, expand),
            "previous_href": link(page=str(page - 1)) if page > 1 else "",
            "next_href": link(page=str(page + 1)) if page < pages else "",
            "page": page,
            "pages": pages,
            "sections": list(course.sections.all()),
            "levels": Level.choices,
            "roles": [(Role.STUDENT, "Students"), (Role.WAITLISTED, "Waitlisted")],
            "missing_any": selectors.MISSING_ANY,
            "released": [a for a in book.assignments if a.grades_released_at],
        },
        status=status,
    )


@login_required
@require_POST
def grades_import(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor imports a grades CSV (``file``) from the assignment's page: all or
    nothing, the refusal naming the bad lines. TAs are refused (403), others get 404."""
    enrollment, assignment = course_selectors.staff_assignment_get(
        user=request.user,
        course_slug=course_slug,
        assignment_slug=assignment_slug,
        now=timezone.now(),
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


def _sort_link(
    f: selectors.GradebookFilters, key: str, link: Callable[..., str]
) -> tuple[str, str | None]:
    """The link that sorts by ``key`` (the other way when it is the sort now) and the
    column's ``aria-sort``."""
    now = f.sort == key
    order = "desc" if now and f.order == "asc" else None  # None: ascending, the default
    aria = ("ascending" if f.order == "asc" else "descending") if now else None
    return link(sort=None if key == "name" else key, order=order, page=None), aria
