"""Writes of grading jobs: enqueue, publish, claim, heartbeat, finish, fail, sweep, re-run.

The job row in PostgreSQL is the truth. Celery messages are wake-up calls that carry a queue
name and, for tracing, a job id: a worker that wakes takes the *fairest* claimable job of its
queue (a student's first submission before anyone's second; late PS0 work held until
registration ends), so Redis' first-in-first-out order never decides who goes first, and a
lost or duplicated message costs nothing: each job is claimed once by a conditional update,
and the sweeper re-sends wake-ups for jobs left waiting."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from courses.models import STAFF_ROLES, Assignment, Enrollment
from grading import services
from grading.models import Bundle, BundleSetup, GradingJob, GradingResult, JobState
from grading.selectors.queue import claimable
from grading.services.bundles import SETUP_FAILED_MESSAGE, active_bundle
from grading.services.grades import grades_from_result
from portal.errors import ApplicationError, PermissionDeniedError
from submissions.models import Submission
from submissions.selectors import counting_ids

log = logging.getLogger(__name__)

MAX_ATTEMPTS = getattr(settings, "GRADING_MAX_ATTEMPTS", 3)
HEARTBEAT_SECONDS = getattr(settings, "GRADING_HEARTBEAT_SECONDS", 10)
# A running job whose heartbeat is older than this lost its worker.
HEARTBEAT_TIMEOUT = timedelta(seconds=getattr(settings, "GRADING_HEARTBEAT_TIMEOUT", 60))
# A queued, claimable job not woken for this long gets a new wake-up message.
REPUBLISH_AFTER = timedelta(seconds=getattr(settings, "GRADING_REPUBLISH_AFTER", 60))
# How many waiting jobs one sweep wakes at the most.
REPUBLISH_BATCH = 1000


def _owner_filter(submission: Submission) -> Q:
    if submission.group_id:
        return Q(submission__group_id=submission.group_id)
    return Q(submission__student_id=submission.student_id, submission__group__isnull=True)


def _wake(job: GradingJob) -> None:
    """Publishes the job's wake-up through ``grading.services.publish``, looked up when it
    is sent, so that replacing that one name (as tests do, to keep messages out of Redis)
    replaces every wake-up this module sends."""
    services.publish(job)


def _wake_on_commit(job: GradingJob) -> None:
    transaction.on_commit(partial(_wake, job))


def publish(job: GradingJob) -> None:
    """Sends a wake-up to the job's queue. Never raises: if Redis is down, the sweeper sends
    it again later (the job row is safe in PostgreSQL). The task is named, not imported, so
    the services never import the tasks; with CELERY_TASK_ALWAYS_EAGER (the demo, without
    Redis) it runs right here, in-process."""
    try:
        current_app.signature(
            "grading.grade_next",
            args=[job.queue, job.pk],
            queue=f"grading.{job.queue}",
            time_limit=settings.GRADING_TASK_TIME_LIMIT,
        ).apply_async()
    except Exception:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        log.exception("could not publish job %s; the sweeper will retry", job.pk)


def job_enqueue(*, submission: Submission, now: datetime) -> GradingJob | None:
    """Queues the submission for autograding, in the caller's transaction; the wake-up goes
    out when it commits. The owner's older jobs still waiting for this assignment are
    superseded: only their newest work is graded. No active bundle: no job."""
    bundle = active_bundle(assignment=submission.assignment)
    if bundle is None:
        return None
    GradingJob.objects.filter(
        _owner_filter(submission),
        submission__assignment_id=submission.assignment_id,
        state=JobState.QUEUED,
    ).update(state=JobState.SUPERSEDED, finished_at=now, message="A newer submission replaced it.")
    job = GradingJob.objects.create(
        submission=submission,
        bundle=bundle,
        queue=submission.assignment.autograder_queue,
        rank=submission.number,
        hold_until=submission.grade_after,
        queued_at=now,
        published_at=now,
    )
    _wake_on_commit(job)
    return job


def job_claim(*, queue: str, worker: str, now: datetime) -> GradingJob | None:
    """Claims the fairest claimable job of the queue: lowest rank (a student's first
    submission before anyone's second), then oldest. Held jobs wait until their time."""
    with transaction.atomic():
        job = (
            GradingJob.objects.select_for_update(skip_locked=True)
            .filter(queue=queue, state=JobState.QUEUED)
            .filter(claimable(now))
            .order_by("rank", "queued_at", "pk")
            .first()
        )
        if job is None:
            return None
        claimed = GradingJob.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
            state=JobState.RUNNING,
            attempts=job.attempts + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
        )
        if not claimed:
            return None
    return (
        GradingJob.objects.select_related(
            "bundle", "submission__assignment__course", "submission__student", "submission__group"
        )
        .prefetch_related("submission__files")
        .get(pk=job.pk)
    )


def job_heartbeat(*, job_id: int, worker: str) -> bool:
    """Says the worker is still on the job; False when the job was taken away from it."""
    return bool(
        GradingJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=worker).update(
            heartbeat_at=timezone.now()
        )
    )


def job_finish(
    *,
    job_id: int,
    worker: str,
    score: float | None,
    max_score: float | None,
    data: dict[str, Any],
    log_text: str = "",
) -> bool:
    """Stores the one result of a job. A worker that lost the job (the sweeper gave it to
    another) stores nothing; a second result for the same job is refused by the database."""
    now = timezone.now()
    with transaction.atomic():
        done = GradingJob.objects.filter(pk=job_id, state=JobState.RUNNING, worker=worker).update(
            state=JobState.DONE, finished_at=now, heartbeat_at=now, message="", log=log_text
        )
        if not done:
            return False
        try:
            with transaction.atomic():
                GradingResult.objects.create(
                    job_id=job_id, score=score, max_score=max_score, data=data
                )
        except IntegrityError:
            return False
        grades_from_result(job_id=job_id)
    return True


def _job_requeue(job: GradingJob, *, now: datetime, log_text: str) -> None:
    """Puts a running job back in its queue (in the caller's transaction) and wakes a worker
    once that commits."""
    job.state = JobState.QUEUED
    job.published_at = now
    job.log = log_text
    job.save(update_fields=["state", "published_at", "log"])
    _wake_on_commit(job)


def _job_fail_for_good(job: GradingJob, *, now: datetime, message: str, log_text: str) -> None:
    job.state = JobState.FAILED
    job.finished_at = now
    job.message = message
    job.log = log_text
    job.save(update_fields=["state", "finished_at", "message", "log"])


def job_fail(*, job_id: int, worker: str, message: str, log_text: str, retry: bool = False) -> str:
    """Ends an attempt that produced no result. ``retry`` (the worker's own trouble, not the
    student's) puts the job back in the queue until it has had MAX_ATTEMPTS; otherwise, or
    then, it is failed with ``message`` for the student and ``log_text`` for staff."""
    now = timezone.now()
    with transaction.atomic():
        job = (
            GradingJob.objects.select_for_update()
            .filter(pk=job_id, state=JobState.RUNNING, worker=worker)
            .first()
        )
        if job is None:
            return "lost"
        if retry and job.attempts < MAX_ATTEMPTS:
            _job_requeue(job, now=now, log_text=log_text)
            return JobState.QUEUED
        _job_fail_for_good(job, now=now, message=message, log_text=log_text)
    return JobState.FAILED


def _stale_job_release(*, job_id: int, now: datetime) -> str | None:
    """A running job whose worker stopped beating: back to the queue, or failed once it has
    had MAX_ATTEMPTS. Returns "requeued" or "failed"; None when it is no longer stale (its
    worker beat, finished, or another sweeper holds it)."""
    with transaction.atomic():
        job = (
            GradingJob.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, state=JobState.RUNNING, heartbeat_at__lt=now - HEARTBEAT_TIMEOUT)
            .first()
        )
        if job is None:
            return None
        if job.attempts >= MAX_ATTEMPTS:
            _job_fail_for_good(
                job,
                now=now,
                message=(
                    "The grading machine stopped while running your code, several times. "
                    "The course staff can re-run it."
                ),
                log_text=f"{job.log}\nworker {job.worker} stopped beating; attempts exhausted",
            )
            return "failed"
        _job_requeue(
            job,
            now=now,
            log_text=(
                f"{job.log}\nworker {job.worker} stopped beating at {job.heartbeat_at}; requeued"
            ),
        )
        return "requeued"


def _waiting_jobs_republish(*, now: datetime) -> int:
    """Sends a new wake-up for each claimable queued job not woken for REPUBLISH_AFTER (the
    message may have been lost with Redis). Returns how many."""
    waiting = (
        GradingJob.objects.filter(state=JobState.QUEUED)
        .filter(claimable(now))
        .filter(Q(published_at__isnull=True) | Q(published_at__lt=now - REPUBLISH_AFTER))
        .order_by("rank", "queued_at")[:REPUBLISH_BATCH]
    )
    republished = 0
    for job in waiting:
        GradingJob.objects.filter(pk=job.pk).update(published_at=now)
        _wake(job)
        republished += 1
    return republished


def jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The beat task's work: running jobs whose worker stopped beating go back to the queue
    (or fail after MAX_ATTEMPTS); queued jobs not woken for a while get a new wake-up, so a
    Redis restart or a killed worker loses nothing."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "republished": 0}
    stale = GradingJob.objects.filter(
        state=JobState.RUNNING, heartbeat_at__lt=now - HEARTBEAT_TIMEOUT
    ).values_list("pk", flat=True)
    for job_id in list(stale):
        released = _stale_job_release(job_id=job_id, now=now)
        if released is not None:
            counts[released] += 1
    counts["republished"] = _waiting_jobs_republish(now=now)
    return counts


def job_rerun(*, enrollment: Enrollment, submission: Submission) -> GradingJob | None:
    """Staff: grade this submission again (after fixing the bundle, say) with the active
    bundle. Its earlier results stay in the history."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != submission.course_id:
        raise PermissionDeniedError("Only the course's staff can re-run the autograder.")
    now = timezone.now()
    with transaction.atomic():
        bundle = active_bundle(assignment=submission.assignment)
        if bundle is None:
            raise ApplicationError(
                "This assignment has no autograder to run.", code="no_autograder"
            )
        job = GradingJob.objects.create(
            submission=submission,
            bundle=bundle,
            queue=submission.assignment.autograder_queue,
            rank=submission.number,
            queued_at=now,
            published_at=now,
        )
        _wake_on_commit(job)
    return job


def jobs_rerun_latest(*, enrollment: Enrollment, assignment: Assignment) -> int:
    """Staff: re-run every owner's latest submission of the assignment."""
    submissions = list(Submission.objects.filter(assignment=assignment))
    counting = counting_ids(submissions=submissions)
    jobs = 0
    for submission in submissions:
        if submission.pk in counting:
            job_rerun(enrollment=enrollment, submission=submission)
            jobs += 1
    return jobs


def bundle_setup_retry(*, enrollment: Enrollment, bundle_id: int) -> int:
    """Staff: build a bundle version again where its setup.sh failed (after a network
    hiccup, say, or a fix to the base image): each failed machine's row becomes "retry
    requested", and every submission whose job failed because of that setup is queued again.
    Returns how many submissions were queued. Refused when no build of it failed."""
    bundle = (
        Bundle.objects.filter(pk=bundle_id, assignment__course_id=enrollment.course_id)
        .select_related("assignment")
        .first()
    )
    if enrollment.role not in STAFF_ROLES or bundle is None:
        raise PermissionDeniedError("Only the course's staff can retry an autograder's setup.")
    with transaction.atomic():
        failed = BundleSetup.objects.select_for_update().filter(
            bundle=bundle, state=BundleSetup.State.FAILED
        )
        if not failed.exists():
            raise ApplicationError(
                "No build of this autograder version has failed: there is nothing to retry.",
                code="nothing_to_retry",
            )
        failed.update(state=BundleSetup.State.RETRY, finished_at=None)
        stuck = (
            Submission.objects.filter(
                jobs__bundle=bundle,
                jobs__state=JobState.FAILED,
                jobs__message=SETUP_FAILED_MESSAGE,
            )
            .exclude(jobs__state__in=[JobState.QUEUED, JobState.RUNNING])
            .distinct()
        )
        count = 0
        for submission in stuck:
            job_rerun(enrollment=enrollment, submission=submission)
            count += 1
    return count
