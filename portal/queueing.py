"""Queueing a Celery task by name once the current transaction commits (ids only, JSON only).

How every app queues its emails (``grading.notifications``, ``access``, ``courses``): the
write never imports the task, and nothing is sent from inside the request's transaction."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def publish(task_name: str, *args: Any) -> None:
    """Sends the task by name. Never raises once the write is committed, unless tasks run
    in-process (the demo): a lost email is logged."""
    try:
        current_app.signature(task_name, args=list(args)).apply_async()
    except Exception:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        log.exception("could not queue %s%r", task_name, args)


def publish_on_commit(task_name: str, *args: Any) -> None:
    transaction.on_commit(partial(publish, task_name, *args))


def chunked(ids: list[int]) -> list[list[int]]:
    """``ids`` in chunks of ``NOTIFY_CHUNK_SIZE``: one task, one SMTP connection each."""
    size = settings.NOTIFY_CHUNK_SIZE
    return [ids[i : i + size] for i in range(0, len(ids), size)]
