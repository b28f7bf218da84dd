"""Reads of grading: a submission's autograde status and results as its viewer may see them,
the queue for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from grading.models import BundleSetup, GradingJob, JobState
from grading.results import parse_results, staff_view, student_view
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


def latest_job(submission: Submission) -> GradingJob | None:
    jobs = list(submission.jobs.all())
    return jobs[0] if jobs else None


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
        parsed = parse_results(result.data["raw"])
        if staff:
            view = staff_view(parsed)
        else:
            assignment = submission.assignment
            view = student_view(
                parsed,
                after_due_date=now > submission.grace_ends_at,
                grades_released=assignment.grades_released_at is not None
                and assignment.grades_released_at <= now,
            )
        out.update(view)
    return out


def queue_position(job: GradingJob, now: datetime) -> int:
    """How many claimable jobs of the same queue go before this one (0: next)."""
    ahead = GradingJob.objects.filter(queue=job.queue, state=JobState.QUEUED).filter(
        Q(hold_until__isnull=True) | Q(hold_until__lte=now)
    )
    return ahead.filter(
        Q(rank__lt=job.rank)
        | Q(rank=job.rank, queued_at__lt=job.queued_at)
        | Q(rank=job.rank, queued_at=job.queued_at, pk__lt=job.pk)
    ).count()


def queue_overview(*, course_id: int | None = None) -> dict[str, Any]:
    """Per queue: how many jobs wait, run, and each worker's last heartbeat."""
    qs = GradingJob.objects.all()
    if course_id is not None:
        qs = qs.filter(submission__course_id=course_id)
    counts = {
        (r["queue"], r["state"]): r["n"]
        for r in qs.values("queue", "state").annotate(n=Count("id"))
    }
    workers = (
        GradingJob.objects.exclude(worker="")
        .values("queue", "worker")
        .annotate(last=Max("heartbeat_at"))
        .order_by("queue", "-last")[:100]
    )
    return {
        "queues": {q: {s: counts.get((q, s), 0) for s in JobState.values} for q in ("cpu", "gpu")},
        "workers": list(workers),
    }


def setups(*, course_id: int) -> QuerySet[BundleSetup]:
    return BundleSetup.objects.filter(bundle__assignment__course_id=course_id).select_related(
        "bundle__assignment"
    )
