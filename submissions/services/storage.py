"""Stored files: deleting those of a failed upload, and sweeping files no row refers to."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from submissions.models import SubmissionFile

log = logging.getLogger(__name__)


def delete_quietly(paths: Sequence[str]) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception:  # pragma: no cover - the storage is gone; the sweeper retries
            log.exception("could not delete %s after a failed submission", path)


def orphan_files_sweep(*, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Deletes stored submission files that no row refers to, once they are older than
    ``older_than`` (an upload in flight writes its files a moment before its rows). Such a file
    is only left behind when a process dies between the two writes; this makes "a stored file
    never lacks its row" hold after the crash too. Returns the deleted paths."""
    cutoff = timezone.now() - older_than
    deleted: list[str] = []

    def walk(folder: str) -> None:
        try:
            dirs, names = default_storage.listdir(folder)
        except FileNotFoundError:  # on local disk, before the first submission
            return
        paths = [f"{folder}/{n}" for n in names]
        known = set(SubmissionFile.objects.filter(file__in=paths).values_list("file", flat=True))
        for path in paths:
            if path not in known and default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                deleted.append(path)
        for d in dirs:
            walk(f"{folder}/{d}")

    # Not ``default_storage.exists("submissions")``: S3 has no folders, so a prefix never
    # "exists" there and the sweep would find nothing (tests/portal/test_s3_storage.py).
    walk("submissions")
    return deleted
