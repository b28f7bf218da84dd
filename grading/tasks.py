"""Celery tasks: grading jobs, the sweeper, and the email notifications
(grading.notifications). Messages carry ids only, JSON only; the state lives in PostgreSQL
(see grading.services). A task imports the services and the worker in its body (HackSoft's
pattern), so that importing the tasks, as Celery does at start, pulls in nothing else, and
the services send the wake-up by the task's name without importing it."""

from __future__ import annotations

import os
import socket
from typing import Any

from celery import shared_task
from django.utils import timezone


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@shared_task(name="grading.grade_next", acks_late=True, ignore_result=True)
def grade_next(queue: str, job_id: int | None = None) -> str:
    """Wakes a worker of ``queue``: it claims the fairest claimable job (often ``job_id``,
    not always) and grades it. Nothing to claim: nothing to do."""
    from grading.services import job_claim
    from grading.slots import slot_for
    from grading.worker import run_job

    worker = worker_name()
    job = job_claim(queue=queue, worker=worker, now=timezone.now())
    if job is None:
        return "idle"
    return run_job(job, slot=slot_for(queue), worker=worker)


@shared_task(name="grading.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """Beat: re-publishes stuck jobs (see grading.services.jobs_sweep)."""
    from grading.services import jobs_sweep

    return jobs_sweep()


@shared_task(name="grading.similarity_check", acks_late=True, ignore_result=True)
def similarity_check(check_id: int) -> str:
    """Runs a similarity check staff started (see grading.services.similarity), on the CPU
    queue."""
    from grading.services import similarity_check_run

    return similarity_check_run(check_id=check_id, worker=worker_name(), now=timezone.now())


# --- email notifications (grading.notifications) ---------------------------------------------

# An SMTP failure (smtplib's errors are OSErrors) retries with a growing pause.
_EMAIL_RETRY: dict[str, Any] = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 6,
    "acks_late": True,
    "ignore_result": True,
}


@shared_task(name="grading.notify_grades_released", **_EMAIL_RETRY)
def notify_grades_released(assignment_id: int) -> int:
    """Fans a release out: one ``notify_grades_released_chunk`` per ``NOTIFY_CHUNK_SIZE``
    recipients. Returns how many chunks it queued."""
    from grading.notifications import release_recipient_ids
    from portal.queueing import chunked

    ids = release_recipient_ids(assignment_id=assignment_id)
    chunks = chunked(ids)
    for chunk in chunks:
        notify_grades_released_chunk.delay(assignment_id, chunk)
    return len(chunks)


@shared_task(name="grading.notify_grades_released_chunk", **_EMAIL_RETRY)
def notify_grades_released_chunk(assignment_id: int, enrollment_ids: list[int]) -> int:
    """Emails one chunk of students their grade, over one SMTP connection."""
    from grading.notifications import send_grades_released

    return send_grades_released(assignment_id=assignment_id, enrollment_ids=enrollment_ids)


@shared_task(name="grading.notify_regrade_opened", **_EMAIL_RETRY)
def notify_regrade_opened(request_id: int) -> int:
    from grading.notifications import send_regrade_opened

    return send_regrade_opened(request_id=request_id)


@shared_task(name="grading.notify_regrade_answered", **_EMAIL_RETRY)
def notify_regrade_answered(request_id: int) -> int:
    from grading.notifications import send_regrade_answered

    return send_regrade_answered(request_id=request_id)


@shared_task(name="grading.notify_course_message", **_EMAIL_RETRY)
def notify_course_message(
    course_id: int, enrollment_ids: list[int], subject: str, message: str
) -> int:
    """Fans the instructor's message out in chunks of ``NOTIFY_CHUNK_SIZE`` people. Returns
    how many chunks it queued."""
    from portal.queueing import chunked

    chunks = chunked(enrollment_ids)
    for chunk in chunks:
        notify_course_message_chunk.delay(course_id, chunk, subject, message)
    return len(chunks)


@shared_task(name="grading.notify_course_message_chunk", **_EMAIL_RETRY)
def notify_course_message_chunk(
    course_id: int, enrollment_ids: list[int], subject: str, message: str
) -> int:
    from grading.notifications import send_course_message

    return send_course_message(
        course_id=course_id, enrollment_ids=enrollment_ids, subject=subject, message=message
    )
