"""Autograding pages: a submission's live autograder status (a fragment the page's script
polls), staff re-runs, the staff queue page, and the instructor's autograder upload."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from courses.anonymity import student_names
from grading import selectors, services
from grading.models import Bundle
from portal.errors import ApplicationError
from portal.pages import perform
from submissions import selectors as submission_selectors

QUEUED_SHOWN = 50


def _heartbeat_timeout() -> timedelta:
    return timedelta(seconds=settings.GRADING_HEARTBEAT_TIMEOUT)


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
    # Anonymous grading: each job's student as the viewer may see them, by assignment.
    shown_jobs = running + [job for q in queues for job in q["queued"]]
    names = {
        job.submission.assignment_id: student_names(
            enrollment=enrollment, assignment=job.submission.assignment
        )
        for job in shown_jobs
    }
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
            "names_by_assignment": names,
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


@login_required
@require_POST
def bundle_setup_retry(request: HttpRequest, course_slug: str, bundle_id: int) -> HttpResponse:
    """Staff: build an autograder version again where its setup.sh failed, and queue again
    the submissions that failed because of it. Back where the button was (``next``: the
    assignment's autograder card, or the queue page)."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    perform(
        request,
        lambda: services.bundle_setup_retry(enrollment=enrollment, bundle_id=bundle_id),
        lambda count: (
            "The autograder's setup will run again on each worker's next job with it"
            + (
                f"; {count} submission{'s' if count != 1 else ''} that failed because of it "
                f"{'are' if count != 1 else 'is'} queued again."
                if count
                else "."
            )
        ),
    )
    back = request.POST.get("next", "")
    course_prefix = f"/courses/{enrollment.course.slug}/"
    if back.startswith(course_prefix) and "//" not in back and "\\" not in back:
        return redirect(back)
    return redirect(f"{reverse('grading:queue', args=[enrollment.course.slug])}#setups-heading")
