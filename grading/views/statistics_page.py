"""An assignment's statistics on a page, for staff: the numbers of
``grading.selectors.assignment_statistics`` in tables, and its histogram drawn by Chart.js
(shipped in static/vendor) from the same numbers."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from grading import selectors
from grading.statistics import Summary
from grading.views.grading_page import staff_assignment
from portal.numbers import plain


def _chart(summary: Summary, label: str) -> dict[str, object]:
    """What statistics.js draws: the bins' labels and counts."""
    bins = summary.histogram
    return {
        "label": label,
        "labels": [f"{plain(b.start)} to {plain(b.end)}" for b in bins],
        "counts": [b.count for b in bins],
    }


@login_required
@require_GET
def statistics(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff: the assignment's statistics (overall, per question, per section) and its
    histogram. Others get 404."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    stats = selectors.assignment_statistics(
        enrollment=enrollment, assignment=assignment, now=timezone.now()
    )
    return render(
        request,
        "grading/statistics.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "assignment": assignment,
            "stats": stats,
            "chart": _chart(stats.summary, f"Students per range of points on {assignment.title}"),
        },
    )
