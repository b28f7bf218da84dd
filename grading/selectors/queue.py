"""Reads of the grading queues: the claim order, a job's place in it and the wait estimate,
the per-queue overview and the staff queue page's running and queued jobs."""

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
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from grading.models import GradingJob, JobState

# How far back a worker's heartbeat counts it as serving its queue, for the wait estimate.
WORKERS_SEEN_WITHIN = timedelta(minutes=2)
# How many recent done jobs of a queue the wait estimate averages.
DURATION_SAMPLE = 20


def claimable(now: datetime) -> Q:
    """Queued jobs a worker may take now: not held, or held until a time that has come."""
    return Q(hold_until__isnull=True) | Q(hold_until__lte=now)


def _ahead_of(rank: Any, queued_at: Any, pk: Any) -> Q:
    """Jobs claimed before one with this rank, queued_at and pk (values or OuterRefs): the
    claim order of :func:`grading.services.job_claim`."""
    return (
        Q(rank__lt=rank)
        | Q(rank=rank, queued_at__lt=queued_at)
        | Q(rank=rank, queued_at=queued_at, pk__lt=pk)
    )


def queue_position(job: GradingJob, now: datetime) -> int:
    """How many claimable jobs of the same queue go before this one (0: next)."""
    return (
        GradingJob.objects.filter(queue=job.queue, state=JobState.QUEUED)
        .filter(claimable(now))
        .filter(_ahead_of(job.rank, job.queued_at, job.pk))
        .count()
    )


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
    (position + 1), divided by the workers seen lately (at least one). None before any job
    of the queue is done."""
    average = job_duration_average(queue=queue)
    if average is None:
        return None
    return average * (position + 1) / max(workers_seen(queue=queue, now=now), 1)


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
        .filter(claimable(now))
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
