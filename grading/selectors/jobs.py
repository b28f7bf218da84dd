"""Reads of a submission's grading jobs: its autograde status and results as its viewer may
see them, the live job-status fragment, and the submission metadata a worker hands the
autograder."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch

from courses import deadlines
from courses.models import Enrollment
from grading.models import Bundle, GradingJob, GradingResult, JobState
from grading.results import ResultsInvalid, parse_results, staff_view, student_view
from grading.selectors.queue import queue_position, queue_wait_estimate
from portal.errors import NotFound
from submissions.models import Submission

# The contract's statuses: none, queued, running, done, failed. A job superseded by a newer
# submission before it ran shows as "none" with a message saying so.
_STATUS = {
    JobState.QUEUED: "queued",
    JobState.RUNNING: "running",
    JobState.DONE: "done",
    JobState.FAILED: "failed",
    JobState.SUPERSEDED: "none",
}


def jobs_prefetch() -> Prefetch:
    """Prefetch for Submission querysets: jobs newest first, with their results."""
    return Prefetch(
        "jobs", queryset=GradingJob.objects.select_related("result").order_by("-queued_at", "-pk")
    )


def latest_result(submission: Submission) -> GradingResult | None:
    """The result of the submission's latest finished job (the one its grade takes its
    autograded parts from); None before any."""
    job = (
        GradingJob.objects.filter(submission=submission, state=JobState.DONE, result__isnull=False)
        .select_related("result")
        .order_by("-finished_at", "-pk")
        .first()
    )
    return job.result if job is not None else None


def latest_job(submission: Submission) -> GradingJob | None:
    jobs = list(submission.jobs.all())
    return jobs[0] if jobs else None


def _result_view(
    submission: Submission, result: GradingResult, *, staff: bool, now: datetime
) -> dict[str, Any]:
    """The stored results as the viewer may see them (see :func:`autograde_view`)."""
    parsed = parse_results(result.data["raw"])
    stdout = result.data.get("stdout") or ""
    if staff:
        return {**staff_view(parsed), "stdout": stdout}
    assignment = submission.assignment
    view = student_view(
        parsed,
        after_due_date=now > submission.grace_ends_at,
        grades_released=assignment.grades_released_at is not None
        and assignment.grades_released_at <= now,
    )
    # What run_autograder printed (results/stdout), only where stdout_visibility allows it.
    if view["stdout_visible"]:
        view["stdout"] = stdout
    return view


def autograde_view(
    submission: Submission, *, staff: bool, now: datetime, position: int | None = None
) -> dict[str, Any]:
    """``{"status", "message", "score", "max_score", "tests", "output", ...}`` for the viewer.
    Students see what the autograder's visibility settings allow: hidden tests are left out
    (and with them the total) until grades are released."""
    job = latest_job(submission)
    if job is None:
        return {"status": "none"}
    out: dict[str, Any] = {
        "status": _STATUS[JobState(job.state)],
        "job_id": job.pk,
        "queued_at": job.queued_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "message": job.message,
    }
    if job.state == JobState.QUEUED and job.hold_until and job.hold_until > now:
        out["held_until"] = job.hold_until.isoformat()
        out["message"] = "Late PS0 work is graded after registration ends."
    if position is not None:
        out["position"] = position
    if staff:
        out["attempts"] = job.attempts
        out["worker"] = job.worker
        out["log"] = job.log
    result = getattr(job, "result", None) if job.state == JobState.DONE else None
    if result is not None:
        out.update(_result_view(submission, result, staff=staff, now=now))
    return out


def _view_or_unreadable(
    submission: Submission,
    job: GradingJob | None,
    *,
    staff: bool,
    now: datetime,
    position: int | None,
) -> dict[str, Any]:
    """:func:`autograde_view`, or a failed status when the stored result is one this parser
    no longer accepts."""
    try:
        return autograde_view(submission, staff=staff, now=now, position=position)
    except ResultsInvalid as exc:
        assert job is not None
        view = {"status": "failed", "job_id": job.pk, "message": exc.student_message}
        if staff:
            view.update(attempts=job.attempts, worker=job.worker, log=f"{job.log}\n{exc.detail}")
        return view


def job_status(submission: Submission, *, staff: bool, now: datetime) -> dict[str, Any]:
    """What the job-status fragment shows: :func:`autograde_view` with, for a claimable queued
    job, its position and wait estimate; for a running one, its elapsed seconds; for a held
    one, the time it is held until. ``shown`` is False when the submission has no job and its
    assignment no autograder (nothing to say). The submission's jobs should be prefetched
    (:func:`jobs_prefetch`)."""
    job = latest_job(submission)
    held = (
        job is not None
        and job.state == JobState.QUEUED
        and job.hold_until is not None
        and job.hold_until > now
    )
    position = None
    if job is not None and job.state == JobState.QUEUED and not held:
        position = queue_position(job, now)
    view = _view_or_unreadable(submission, job, staff=staff, now=now, position=position)
    view["submission_id"] = submission.pk
    view["staff"] = staff
    view["queue"] = job.queue if job is not None else submission.assignment.autograder_queue
    view["superseded"] = job is not None and job.state == JobState.SUPERSEDED
    view["poll"] = view["status"] in ("queued", "running")
    # Whether tests shown "after the due date" are still to come (the student's grace end).
    view["due_date_ahead"] = now <= submission.grace_ends_at
    if job is None:
        view["shown"] = Bundle.objects.filter(
            assignment_id=submission.assignment_id, active=True
        ).exists()
        return view
    view["shown"] = True
    if held:
        view["held_until_at"] = job.hold_until
    if position is not None:
        estimate = queue_wait_estimate(queue=job.queue, position=position, now=now)
        view["estimate_minutes"] = None if estimate is None else max(1, round(estimate / 60))
    if job.state == JobState.RUNNING and job.started_at is not None:
        view["elapsed_s"] = max(int((now - job.started_at).total_seconds()), 0)
    view["finished_at_dt"] = job.finished_at
    return view


def submission_metadata(*, job: GradingJob) -> dict[str, Any]:
    """submission_metadata.json for the job's autograder, as Gradescope writes it: the
    submission, its assignment and deadlines in the course's zone, its submitter, and the
    submitter's earlier graded submissions of the assignment."""
    sub = job.submission
    a = sub.assignment
    tz = deadlines.zone(a.course.timezone)
    previous = (
        GradingResult.objects.filter(
            job__submission__assignment=a, job__submission__student=sub.student
        )
        .exclude(job__submission=sub)
        .select_related("job__submission")
        .order_by("job__submission__submitted_at")
    )
    return {
        "id": sub.pk,
        "created_at": sub.submitted_at.astimezone(tz).isoformat(),
        "submission_method": "upload",
        "assignment": {
            "id": a.pk,
            "course_id": a.course_id,
            "title": a.title,
            "release_date": a.release_at.astimezone(tz).isoformat() if a.release_at else None,
            "due_date": sub.due_at.astimezone(tz).isoformat(),
            "late_due_date": sub.grace_ends_at.astimezone(tz).isoformat(),
            "group_submission": a.group,
            "group_size": a.group_max if a.group else None,
            "total_points": str(a.points),
        },
        "users": [
            {
                "email": sub.student.email,
                "id": sub.student_id,
                "name": sub.student.get_full_name() or sub.student.username,
            }
        ],
        "previous_submissions": [
            {
                "submission_time": r.job.submission.submitted_at.astimezone(tz).isoformat(),
                "score": r.score,
                "results": _previous_results(r),
            }
            for r in previous
        ],
    }


def _previous_results(result: GradingResult) -> dict[str, Any]:
    """An earlier submission's results.json as its autograder wrote it (Gradescope fills
    ``previous_submissions[].results`` this way, so graders can limit attempts or compare);
    ``{}`` when it cannot be read back."""
    try:
        raw = json.loads(result.data.get("raw") or "{}")
    except (TypeError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def job_enrollment_get(*, user: AbstractBaseUser | AnonymousUser, job_id: int) -> Enrollment:
    """The caller's enrollment in the course of a grading job; 404 when there is no such job
    or the caller is not in its course."""
    course_id = (
        GradingJob.objects.filter(pk=job_id).values_list("submission__course_id", flat=True).first()
    )
    enrollment = (
        Enrollment.objects.filter(course_id=course_id, user_id=user.pk)
        .select_related("course", "section", "user")
        .first()
        if course_id is not None and user.is_authenticated
        else None
    )
    if enrollment is None:
        raise NotFound("There is no such grading job.")
    return enrollment
