"""The grading pages: a submission's live autograder status (a fragment the page's script
polls), staff re-runs, the staff queue page, and the instructor's autograder upload. Thin,
over grading's services and selectors; a refusal shows the service's message."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from grading import selectors, services
from grading.models import Bundle, RegradeRequest
from portal.errors import ApplicationError, ValidationFailed
from portal.pages import perform
from submissions import selectors as submission_selectors

QUEUED_SHOWN = 50


def _heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.GRADING_HEARTBEAT_TIMEOUT)


# --- a submission's autograder status -------------------------------------------------------


@never_cache
@login_required
@require_GET
def job_status(request: HttpRequest, submission_id: int) -> HttpResponse:
    """The job-status fragment (templates/grading/_job_status.html) for whoever may see the
    submission (404 for anyone else). static/portal/jobstatus.js fetches it every 2 seconds
    while the job is queued or running and swaps it in place."""
    submission, enrollment = submission_selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    now = timezone.now()
    return render(
        request,
        "grading/_job_status.html",
        {
            "st": selectors.job_status(submission, staff=enrollment.is_staff_role, now=now),
            "tz": course_selectors.course_tz(submission.course),
            "staff": enrollment.is_staff_role,
        },
    )


@login_required
@require_POST
def job_rerun(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Staff: grade this submission again with the assignment's active autograder."""
    submission, enrollment = submission_selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    perform(
        request,
        lambda: services.job_rerun(enrollment=enrollment, submission=submission),
        lambda _: f"Submission #{submission.number} is queued for the autograder again.",
    )
    return redirect("submissions:receipt", submission.pk)


# --- the staff queue page -------------------------------------------------------------------


@login_required
@require_GET
def queue(request: HttpRequest, course_slug: str) -> HttpResponse:
    """TAs and instructors (404 for everyone else): per queue, the course's jobs by state,
    the running jobs, the waiting ones in claim order, each worker's last heartbeat, the
    bundles' setup runs, and a re-run button per autograded assignment."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    course = enrollment.course
    now = timezone.now()
    overview = selectors.queue_overview(course_id=course.pk)
    stale_before = now - _heartbeat_timeout()
    running = list(selectors.jobs_running(course_id=course.pk))
    queues = []
    for name, counts in overview["queues"].items():
        queues.append(
            {
                "name": name,
                "counts": counts,
                "running": [
                    (job, int((now - job.started_at).total_seconds()) if job.started_at else None)
                    for job in running
                    if job.queue == name
                ],
                "queued": selectors.jobs_queued(
                    course_id=course.pk, queue=name, now=now, limit=QUEUED_SHOWN
                ),
            }
        )
    workers = [
        {
            **w,
            "stale": w["last"] is None or w["last"] < stale_before,
            "ago": int((now - w["last"]).total_seconds()) if w["last"] else None,
        }
        for w in overview["workers"]
    ]
    return render(
        request,
        "grading/queue.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": course_selectors.course_tz(course),
            "now": now,
            "queues": queues,
            "queued_shown": QUEUED_SHOWN,
            "workers": workers,
            "heartbeat_timeout": settings.GRADING_HEARTBEAT_TIMEOUT,
            "assignments": list(selectors.assignments_autograded(course_id=course.pk)),
            "setups": list(selectors.bundle_setup_list(course_id=course.pk)),
        },
    )


@login_required
@require_POST
def assignment_rerun(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff: re-run every owner's latest submission of the assignment (after fixing its
    autograder, say). Back to the queue page with a message saying how many."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    assignment = course_selectors.assignment_get(
        enrollment=enrollment, slug=assignment_slug, now=timezone.now()
    )
    perform(
        request,
        lambda: services.jobs_rerun_latest(enrollment=enrollment, assignment=assignment),
        lambda count: (
            f"Re-running the autograder on {count} latest submission{'s' if count != 1 else ''} "
            f"of {assignment.title}."
        ),
    )
    return redirect("grading:queue", enrollment.course.slug)


# --- the instructor's autograder upload -----------------------------------------------------


@login_required
@require_POST
def bundle_upload(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor's new autograder version (multipart ``bundle``: a zip in Gradescope's
    layout), from the assignment page's Autograder card; back there with the outcome. TAs
    are refused (403), others get 404."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    assignment = course_selectors.assignment_get(
        enrollment=enrollment, slug=assignment_slug, now=timezone.now()
    )
    back = reverse("submissions:assignment_detail", args=[enrollment.course.slug, assignment.slug])
    upload = request.FILES.get("bundle")

    def upload_bundle() -> Bundle:
        if upload is None:
            raise ApplicationError("Choose the autograder zip to upload.", code="invalid_file")
        return services.bundle_upload(enrollment=enrollment, assignment=assignment, fileobj=upload)

    perform(
        request,
        upload_bundle,
        lambda bundle: (
            f"Autograder version {bundle.sha256[:12]} is now active for {assignment.title}. "
            "Each worker runs its setup.sh before grading with it."
        ),
    )
    return redirect(f"{back}#autograder")


# --- grades: the student's page, release, regrade requests and the staff's regrade queue ----


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
def regrade_request_create(request: HttpRequest, submission_id: int) -> HttpResponse:
    """A student asks for a regrade from the receipt (``question``, ``message``); back to the
    receipt with the outcome, a refusal with the service's message."""
    submission, enrollment = submission_selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    perform(
        request,
        lambda: services.regrade_request_create(
            enrollment=enrollment,
            submission=submission,
            question=request.POST.get("question", "").strip(),
            message=request.POST.get("message", ""),
            now=timezone.now(),
        ),
        lambda _: "Your regrade request is in. The course staff will answer it here.",
    )
    return redirect(reverse("submissions:receipt", args=[submission.pk]) + "#regrade")


REGRADE_STATUSES = ("open", "resolved", "all")


def _regrade_filters(data: Any) -> dict[str, str]:
    """The queue's filters: ``status`` (open by default, resolved or all) and ``assignment``
    (a slug; empty for every assignment)."""
    status = data.get("status", "").strip() or "open"
    return {
        "status": status if status in REGRADE_STATUSES else "open",
        "assignment": data.get("assignment", "").strip(),
    }


@login_required
@require_GET
def regrade_queue(request: HttpRequest, course_slug: str) -> HttpResponse:
    """TAs and instructors (404 for everyone else): the course's regrade requests, open ones
    first by default, filtered by status and assignment; each open one with a resolve form
    and the current grade of its question with that grade's history."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    course = enrollment.course
    filters = _regrade_filters(request.GET)
    error = None
    try:
        regrades = list(
            selectors.regrade_request_list(
                enrollment=enrollment,
                status=None if filters["status"] == "all" else filters["status"],
                assignment_slug=filters["assignment"] or None,
            )
        )
    except ApplicationError as refusal:
        error, regrades = refusal, []
    # The grades the open requests are about: one grade_list per assignment (three queries
    # each), however many requests.
    grades: dict[tuple[int, int, str], Any] = {}
    assignments = {
        r.submission.assignment_id: r.submission.assignment
        for r in regrades
        if r.status == RegradeRequest.Status.OPEN
    }
    for assignment in assignments.values():
        for grade in selectors.grade_list(enrollment=enrollment, assignment=assignment):
            grades[(assignment.pk, grade.student_id, grade.question)] = grade
    rows = [
        (r, grades.get((r.submission.assignment_id, r.student_id, r.question))) for r in regrades
    ]
    return render(
        request,
        "grading/regrade_queue.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": course_selectors.course_tz(course),
            "filters": filters,
            "query": urlencode(filters),
            "error": error,
            "rows": rows,
            "statuses": REGRADE_STATUSES,
            "assignment_choices": course_selectors.assignment_rows(
                enrollment=enrollment, now=timezone.now()
            ),
        },
        status=error.status if error is not None else 200,
    )


@login_required
@require_POST
def regrade_request_resolve(request: HttpRequest, request_id: int) -> HttpResponse:
    """Staff answer a regrade request from the queue (``response``, optional ``score``);
    back to the queue, with its filters, and the outcome. The requester is refused (403, by
    the service), anyone who may not see the request gets 404."""
    regrade, enrollment = selectors.regrade_request_get(user=request.user, request_id=request_id)
    back = reverse("grading:regrade_queue", args=[enrollment.course.slug])
    back += "?" + urlencode(_regrade_filters(request.POST))
    typed = request.POST.get("score", "").strip()

    def resolve() -> Decimal | None:
        try:
            score = Decimal(typed) if typed else None
        except InvalidOperation:
            message = f"The score must be a number, like 8 or 8.5; '{typed}' is not."
            raise ValidationFailed(message, fields={"score": [message]}) from None
        services.regrade_request_resolve(
            enrollment=enrollment,
            request_id=regrade.pk,
            response=request.POST.get("response", ""),
            score=score,
            now=timezone.now(),
        )
        return score

    done = perform(
        request,
        resolve,
        lambda score: (
            f"Resolved {regrade.student.username}'s regrade request on "
            f"{regrade.submission.assignment.title}"
            + (f": the grade is now {score}." if score is not None else ", grade unchanged.")
        ),
    )
    return redirect(back if done else f"{back}#regrade-{regrade.pk}")
