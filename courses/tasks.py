"""Celery tasks of courses: the roster invitations (``courses.services.invitations``). Imports
in the body, as in ``grading.tasks``; routed to the ``grading.cpu`` queue with the other
emails."""

from __future__ import annotations

from celery import shared_task

from access.tasks import EMAIL_RETRY


@shared_task(name="courses.notify_invitations", **EMAIL_RETRY)
def notify_invitations(course_id: int, user_ids: list[int]) -> int:
    """Fans the invitations out in chunks of ``NOTIFY_CHUNK_SIZE`` people. Returns how many
    chunks it queued."""
    from portal.queueing import chunked

    chunks = chunked(user_ids)
    for chunk in chunks:
        notify_invitations_chunk.delay(course_id, chunk)
    return len(chunks)


@shared_task(name="courses.notify_invitations_chunk", **EMAIL_RETRY)
def notify_invitations_chunk(course_id: int, user_ids: list[int]) -> int:
    from courses.services.invitations import invitations_send

    return invitations_send(course_id=course_id, user_ids=user_ids)
