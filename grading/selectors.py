"""Reads of grading: a submission's autograde status and results as its viewer may see them,
the queue for staff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from courses.models import STAFF_ROLES, Assignment, Enrollment, Role
from grading.models import Bundle, BundleSetup, GradingJob, JobState
from grading.results import ResultsInvalid, parse_results, staff_view, student_view
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


# --- pages: the live job status, the staff queue page, the autograder card -------------------

# How far back a worker's heartbeat counts it as serving its queue, for the wait estimate.
WORKERS_SEEN_WITHIN = timedelta(minutes=2)
# How many recent done jobs of a queue the wait estimate averages.
DURATION_SAMPLE = 20


def _claimable(now: datetime) -> Q:
    return Q(hold_until__isnull=True) | Q(hold_until__lte=now)


def job_duration_average(*, queue: str) -> float | None:
    """Seconds: the average run time of the queue's last DURATION_SAMPLE done jobs (None when
    none has finished yet). One query."""
    rows = (
        GradingJob.objects.filter(
            queue=queue,
            state=JobState.DONE,
            started_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:DURATION_SAMPLE]
    )
    durations = [max((end - start).total_seconds(), 0.0) for start, end in rows if start and end]
    return sum(durations) / len(durations) if durations else None


def workers_seen(*, queue: str, now: datetime) -> int:
    """How many workers of the queue sent a heartbeat within WORKERS_SEEN_WITHIN."""
    return (
        GradingJob.objects.filter(queue=queue, heartbeat_at__gte=now - WORKERS_SEEN_WITHIN)
        .exclude(worker="")
        .values("worker")
        .distinct()
        .count()
    )


def queue_wait_estimate(*, queue: str, position: int, now: datetime) -> float | None:
    """Seconds until a job at ``position`` (0: next) is done: the average run time times
    (position + 1), divided by the workers seen lately (at least one). None before any job of the queue is done."""
    average = job_duration_average(queue=queue)
    if average is None:
        return None
    return average * (position + 1) / max(workers_seen(queue=queue, now=now), 1)


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
    try:
        view = autograde_view(submission, staff=staff, now=now, position=position)
    except ResultsInvalid as exc:  # a stored result this parser no longer accepts
        assert job is not None
        view = {"status": "failed", "job_id": job.pk, "message": exc.student_message}
        if staff:
            view.update(attempts=job.attempts, worker=job.worker, log=f"{job.log}\n{exc.detail}")
    view["submission_id"] = submission.pk
    view["staff"] = staff
    view["queue"] = job.queue if job is not None else submission.assignment.autograder_queue
    view["superseded"] = job is not None and job.state == JobState.SUPERSEDED
    view["poll"] = view["status"] in ("queued", "running")
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


def _ahead_of(rank: Any, queued_at: Any, pk: Any) -> Q:
    """Jobs claimed before one with this rank, queued_at and pk (values or OuterRefs): the
    claim order of :func:`grading.services.job_claim`."""
    return (
        Q(rank__lt=rank)
        | Q(rank=rank, queued_at__lt=queued_at)
        | Q(rank=rank, queued_at=queued_at, pk__lt=pk)
    )


def jobs_running(*, course_id: int) -> QuerySet[GradingJob]:
    """The course's running jobs, longest running first, for the staff queue page."""
    return (
        GradingJob.objects.filter(submission__course_id=course_id, state=JobState.RUNNING)
        .select_related("submission__student", "submission__assignment", "submission__group")
        .order_by("started_at", "pk")
    )


def jobs_queued(*, course_id: int, queue: str, now: datetime, limit: int = 50) -> list[GradingJob]:
    """The course's first ``limit`` queued jobs of a queue, in claim order (held ones last),
    each with ``held`` and ``position``: how many claimable jobs of the queue (any course's)
    go before it, 0 for the next one. One query however many jobs wait."""
    ahead = (
        GradingJob.objects.filter(queue=OuterRef("queue"), state=JobState.QUEUED)
        .filter(_claimable(now))
        .filter(_ahead_of(OuterRef("rank"), OuterRef("queued_at"), OuterRef("pk")))
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        GradingJob.objects.filter(
            submission__course_id=course_id, queue=queue, state=JobState.QUEUED
        )
        .annotate(
            held=Case(
                When(hold_until__gt=now, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            position=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)),
        )
        .select_related("submission__student", "submission__assignment", "submission__group")
        .order_by("held", "rank", "queued_at", "pk")[:limit]
    )


def assignments_autograded(*, course_id: int) -> QuerySet[Assignment]:
    """The course's assignments that have an active autograder, each with ``active_bundles``
    (a one-item list), for the re-run buttons."""
    return (
        Assignment.objects.filter(course_id=course_id, bundles__active=True)
        .prefetch_related(
            Prefetch("bundles", queryset=Bundle.objects.filter(active=True), to_attr="active")
        )
        .order_by("position", "due_at", "slug")
    )


def bundle_setup_list(*, course_id: int, bundle_id: int | None = None) -> QuerySet[BundleSetup]:
    """setup.sh runs of the course's bundles (or of one bundle), for staff: newest bundle
    first, then by worker."""
    qs = setups(course_id=course_id)
    if bundle_id is not None:
        qs = qs.filter(bundle_id=bundle_id)
    return qs.order_by("bundle__assignment__position", "-bundle__created_at", "worker")


def autograder_card(*, enrollment: Enrollment, assignment: Assignment) -> dict[str, Any] | None:
    """Staff only (None for anyone else): the assignment's active autograder version, whether
    the caller may upload a new one (the instructor), and its setup.sh runs per worker."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != assignment.course_id:
        return None
    bundle = (
        Bundle.objects.filter(assignment=assignment, active=True)
        .select_related("uploaded_by")
        .first()
    )
    return {
        "bundle": bundle,
        "may_upload": enrollment.role == Role.INSTRUCTOR,
        "setups": (
            list(bundle_setup_list(course_id=assignment.course_id, bundle_id=bundle.pk))
            if bundle is not None
            else []
        ),
    }
