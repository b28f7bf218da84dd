"""PS0 readiness on a page, for staff: the students flagged as maybe not prepared, the CSV,
and for the instructor a form that emails them (in the background)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from grading import selectors, services
from grading.services.readiness import MESSAGE_MAX, SUBJECT_MAX
from portal.pages import perform

DEFAULT_SUBJECT = "Your PS0 score and this course"
DEFAULT_MESSAGE = (
    "Your score on PS0 is at or below the level that suggests you may not be prepared for "
    "this course yet. PS0 covers the background the course builds on; please review it, "
    "come to office hours, and think about whether to take the course this term."
)


@login_required
@require_GET
def readiness(request: HttpRequest, course_slug: str) -> HttpResponse:
    """Staff: the readiness list, its CSV, and (instructor) the email form. Others 404."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    return render(
        request,
        "grading/readiness.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "readiness": selectors.readiness_list(enrollment=enrollment, now=timezone.now()),
            "subject": DEFAULT_SUBJECT,
            "message": DEFAULT_MESSAGE,
            "subject_max": SUBJECT_MAX,
            "message_max": MESSAGE_MAX,
        },
    )


@login_required
@require_POST
def readiness_email(request: HttpRequest, course_slug: str) -> HttpResponse:
    """The instructor emails the flagged students (``subject``, ``message``); back to the
    list with how many it goes to. TAs are refused (403), others 404."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    perform(
        request,
        lambda: services.readiness_email(
            by=enrollment,
            subject=request.POST.get("subject", ""),
            message=request.POST.get("message", ""),
            now=timezone.now(),
        ),
        lambda n: (
            f"Your message goes to {n} student{'s' if n != 1 else ''}; it is sent in the "
            "background."
            if n
            else "Nobody is flagged: no email was sent."
        ),
    )
    return redirect("grading:readiness", course_slug)
