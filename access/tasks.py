"""Celery tasks of access: the password-reset email (``access.passwords``). Imports in the
body, as in ``grading.tasks``."""

from __future__ import annotations

from typing import Any

from celery import shared_task

# An SMTP failure (smtplib's errors are OSErrors) retries with a growing pause.
EMAIL_RETRY: dict[str, Any] = {
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 6,
    "acks_late": True,
    "ignore_result": True,
}


@shared_task(name="access.notify_password_reset", **EMAIL_RETRY)
def notify_password_reset(user_id: int) -> int:
    from access.passwords import password_reset_send

    return password_reset_send(user_id=user_id)
