"""The entry point for one archive: :func:`archive_kind` tells from a file's name whether it
is one, and :func:`inspect_archive` checks it, zip or tar, and returns its file paths."""

from __future__ import annotations

from typing import IO

from submissions.archives.inspector import DAMAGE, Inspector
from submissions.archives.limits import ArchiveLimits
from submissions.archives.tar import inspect_tar
from submissions.archives.zip import inspect_zip

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")


def archive_kind(name: str) -> str | None:
    """``"zip"``, ``"tar"`` or ``None``: what a (normalised) file name says the file is."""
    lower = name.lower()
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith(_TAR_SUFFIXES):
        return "tar"
    return None


def inspect_archive(
    fileobj: IO[bytes], kind: str, *, size: int, name: str, limits: ArchiveLimits
) -> tuple[str, ...]:
    """Checks the ``kind`` (``"zip"`` or ``"tar"``) archive in ``fileobj`` (seekable, ``size``
    bytes, called ``name`` in messages) without extracting it. Returns its file paths
    (normalised, ``/``-separated, in archive order, folders left out); raises
    :class:`~submissions.archives.refusal.ArchiveRefused`. Leaves ``fileobj`` anywhere."""
    return run_inspection(Inspector(fileobj, size, name, limits), kind)


def run_inspection(ins: Inspector, kind: str) -> tuple[str, ...]:
    """Runs the zip or tar checks through ``ins``; damage the standard library reports is
    refused as damage, and an archive without files is refused too."""
    try:
        if kind == "zip":
            inspect_zip(ins)
        else:
            inspect_tar(ins)
    except DAMAGE:
        ins.damaged()
    return ins.files()


def seekable(fileobj: IO[bytes]) -> bool:
    """Whether ``fileobj`` says it can seek (a closed or odd object cannot)."""
    try:
        return bool(fileobj.seekable())
    except (AttributeError, ValueError, OSError):
        return False
