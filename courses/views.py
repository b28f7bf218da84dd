"""The courses pages: thin, over the same selectors as the API."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from courses import selectors


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
        },
    )
