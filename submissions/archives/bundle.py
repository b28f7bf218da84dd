"""Autograder bundles get the archive checks submissions get: :func:`check_bundle_archive`.

A bundle is a zip in Gradescope's layout (``run_autograder`` at its top level, ``setup.sh``
and anything else they use) that a worker unpacks on Linux, so on top of every submission
rule a bundle may not use ``\\`` in a name (a submission's ``\\`` counts as a separator, but
the worker would make a file called ``a\\b``). Its own limits: :data:`MAX_BUNDLE_BYTES` for the
zip itself and :data:`BUNDLE_LIMITS` for what it holds.
"""

from __future__ import annotations

import io
from typing import IO, NoReturn

from submissions.archives.check import run_inspection, seekable
from submissions.archives.inspector import Inspector
from submissions.archives.limits import ArchiveLimits
from submissions.archives.refusal import MB, ArchiveRefused, quoted, size_text

BUNDLE_ENTRY_POINT = "run_autograder"
MAX_BUNDLE_BYTES = 500 * MB
"""The most one bundle's zip may be."""
BUNDLE_LIMITS = ArchiveLimits(max_members=10_000, max_uncompressed_bytes=500 * MB)
"""What one bundle may hold: 500 MB unpacked, 10,000 entries; ratio, depth and name length as
for submissions."""

_NAME = "The autograder bundle"


class _BundleInspector(Inspector):
    """The submission checks, with a bundle's words for "not a zip" and no ``\\`` in names."""

    def not_a_zip(self) -> NoReturn:
        self.refuse_whole(f"{_NAME} is not a valid zip file.")

    def check_raw_name(self, raw: str) -> None:
        super().check_raw_name(raw)
        if "\\" in raw:
            self.refuse(
                f"the archive contains {quoted(raw)}, a name with a backslash (\\); folders "
                "inside a bundle are separated by /.",
                raw,
            )


def check_bundle_archive(
    source: bytes | IO[bytes],
    *,
    limits: ArchiveLimits = BUNDLE_LIMITS,
    max_bytes: int = MAX_BUNDLE_BYTES,
) -> tuple[str, ...]:
    """Checks an autograder bundle without extracting it; returns its file paths
    (normalised, ``/``-separated, in archive order, folders left out).

    ``source`` is the zip's bytes or a binary file (read from its start and, when seekable,
    left at its start; one that is not seekable is read into memory, at most ``max_bytes``
    + 1 bytes). Raises :class:`~submissions.archives.refusal.ArchiveRefused` (``code``
    ``invalid_file``, or ``file_too_large`` for a zip that unpacks to more than ``limits``
    allow) when the zip is larger than ``max_bytes`` ("The autograder bundle is larger than
    500 MB."), is not a zip ("The autograder bundle is not a valid zip file."), breaks a rule
    submissions follow or has a ``\\`` in a name ("The autograder bundle: …"), or has no file
    named exactly ``run_autograder`` at its top level ("The bundle needs run_autograder at its
    top level …").
    """
    fileobj, size = _opened(source, max_bytes)
    ins = _BundleInspector(fileobj, size, _NAME, limits)
    try:
        if size > max_bytes:
            raise ArchiveRefused(f"{_NAME} is larger than {size_text(max_bytes)}.", name=_NAME)
        members = run_inspection(ins, "zip")
    finally:
        fileobj.seek(0)
    if ins.catalogue.files.get(BUNDLE_ENTRY_POINT) != BUNDLE_ENTRY_POINT:
        raise ArchiveRefused(
            f"The bundle needs {BUNDLE_ENTRY_POINT} at its top level (Gradescope's layout: "
            f"setup.sh, {BUNDLE_ENTRY_POINT} and anything else they use).",
            name=_NAME,
        )
    return members


def _opened(source: bytes | IO[bytes], max_bytes: int) -> tuple[IO[bytes], int]:
    """A seekable file holding ``source`` from its start, and its size (for a stream that
    cannot seek, the size of at most ``max_bytes`` + 1 bytes read from it)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(source), len(source)
    if seekable(source):
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        return source, size
    data = bytearray()
    while len(data) <= max_bytes and (chunk := source.read(max_bytes + 1 - len(data))):
        data += chunk
    return io.BytesIO(bytes(data)), len(data)
