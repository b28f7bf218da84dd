"""Celery tasks. Messages carry a queue name and a job id, JSON only; the job's state lives
in PostgreSQL (see grading.services). A task imports the services and the worker in its
body (HackSoft's pattern), so that importing the tasks, as Celery does at start, pulls in
nothing else, and the services send the wake-up by the task's name without importing it."""

from __future__ import annotations

import os
import socket

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
