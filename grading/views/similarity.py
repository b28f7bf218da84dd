"""Similarity checks on pages (staff): an assignment's latest check with a Start button and
its pairs most similar first; one pair's matching files side by side, the matching regions
marked. Thin, over grading's similarity selectors and services."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from courses.anonymity import HIDDEN_NOTE, names_hidden
from grading import selectors, services
from grading.views.grading_page import staff_assignment
from portal.pages import perform


@login_required
@require_GET
def similarity(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff: the latest check, its status and pairs; Start. Others get 404."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    view = selectors.similarity_latest(enrollment=enrollment, assignment=assignment)
    return render(
        request,
        "grading/similarity.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "assignment": assignment,
            "view": view,
            "active": view is not None and view.check.status in ("queued", "running"),
            "names_hidden": names_hidden(enrollment=enrollment, assignment=assignment),
            "hidden_note": HIDDEN_NOTE,
            "tz": course_selectors.course_tz(enrollment.course),
        },
    )


@login_required
@require_POST
def similarity_start(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff start a check (one queued or running already: that one goes on)."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    perform(
        request,
        lambda: services.similarity_check_start(
            by=enrollment, assignment=assignment, now=timezone.now()
        ),
        lambda started: (
            "Similarity check started: a worker compares the counting submissions."
            if started[1]
            else "A similarity check is already under way; it goes on."
        ),
    )
    return redirect(reverse("grading:similarity", args=[course_slug, assignment_slug]))


@login_required
@require_GET
def similarity_pair(
    request: HttpRequest, course_slug: str, assignment_slug: str, pair_id: int
) -> HttpResponse:
    """Staff: one pair's matching files side by side."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    pair = selectors.similarity_pair_get(
        enrollment=enrollment, assignment=assignment, pair_id=pair_id
    )
    return render(
        request,
        "grading/similarity_pair.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "assignment": assignment,
            "pair": pair,
            "names_hidden": names_hidden(enrollment=enrollment, assignment=assignment),
            "hidden_note": HIDDEN_NOTE,
        },
    )
