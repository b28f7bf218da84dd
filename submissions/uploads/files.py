"""One submission's files checked before anything is stored: :class:`UploadLimits`,
:func:`check_file` (name, size, SHA-256, archive inspection) and :func:`check_files` (the
lot: count, duplicate names, total size)."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, BinaryIO

from submissions.archives import (
    MB,
    ArchiveLimits,
    ArchiveRefused,
    archive_kind,
    inspect_archive,
    seekable,
)
from submissions.archives.limits import require_whole_numbers
from submissions.archives.refusal import quoted
from submissions.uploads.errors import (
    UploadRefused,
    file_too_large_error,
    submission_too_large_error,
)
from submissions.uploads.names import normalise_name

_READ_CHUNK = 1 * MB  # hashing reads
_SPOOL_IN_MEMORY = 8 * MB  # a non-seekable archive is spooled; beyond this, to a temp file


@dataclass(frozen=True)
class UploadLimits:
    """How much one submission may carry. Sizes are bytes (MB = 2**20)."""

    max_file_bytes: int = 50 * MB
    max_total_bytes: int = 200 * MB
    max_files: int = 20
    archive_max_members: int = 1000
    archive_max_uncompressed_bytes: int = 500 * MB
    archive_max_ratio: int = 100
    archive_ratio_grace_bytes: int = 1 * MB
    archive_max_depth: int = 20
    max_name_length: int = 255

    def __post_init__(self) -> None:
        require_whole_numbers(self, may_be_zero=frozenset({"archive_ratio_grace_bytes"}))

    @property
    def archive(self) -> ArchiveLimits:
        """The limits for one archive among the files."""
        return ArchiveLimits(
            max_members=self.archive_max_members,
            max_uncompressed_bytes=self.archive_max_uncompressed_bytes,
            max_ratio=self.archive_max_ratio,
            ratio_grace_bytes=self.archive_ratio_grace_bytes,
            max_depth=self.archive_max_depth,
            max_name_length=self.max_name_length,
        )


@dataclass(frozen=True)
class CheckedFile:
    """One accepted file. ``members``: an archive's file paths (normalised, ``/``-separated,
    in archive order, folders left out); empty for a file that is not an archive."""

    name: str
    size: int
    sha256: str
    is_archive: bool
    members: tuple[str, ...] = ()


def check_file(fileobj: BinaryIO, name: str, limits: UploadLimits | None = None) -> CheckedFile:
    """Checks one uploaded file; returns what was found or raises :class:`UploadRefused`.

    Reads from the start when ``fileobj`` is seekable (and leaves it at the start again), in
    chunks, never more than ``max_file_bytes + 1`` bytes. An archive that is not seekable is
    spooled (in memory up to 8 MB, then a temporary file) so it can be inspected.
    """
    limits = limits or UploadLimits()
    safe = normalise_name(name, max_length=limits.max_name_length)
    kind = archive_kind(safe)
    can_seek = seekable(fileobj)
    if can_seek:
        fileobj.seek(0)
    spool: IO[bytes] | None = None
    if kind and not can_seek:
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        size, sha256 = _size_and_hash(fileobj, safe, limits.max_file_bytes, copy_to=spool)
        members: tuple[str, ...] = ()
        if kind is not None:
            source: IO[bytes] = spool if spool is not None else fileobj
            members = _archive_members(source, kind, size=size, name=safe, limits=limits)
    finally:
        if spool is not None:
            spool.close()
        if can_seek:
            fileobj.seek(0)
    return CheckedFile(
        name=safe, size=size, sha256=sha256, is_archive=kind is not None, members=members
    )


def _size_and_hash(
    fileobj: IO[bytes], name: str, max_bytes: int, *, copy_to: IO[bytes] | None
) -> tuple[int, str]:
    """Reads ``fileobj`` to its end in chunks (copying them to ``copy_to``); its size and
    SHA-256. Refuses it as too large one byte past ``max_bytes``."""
    digest = hashlib.sha256()
    size = 0
    while chunk := fileobj.read(min(_READ_CHUNK, max_bytes + 1 - size)):
        size += len(chunk)
        if size > max_bytes:
            raise file_too_large_error(name, max_bytes)
        digest.update(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return size, digest.hexdigest()


def _archive_members(
    source: IO[bytes], kind: str, *, size: int, name: str, limits: UploadLimits
) -> tuple[str, ...]:
    """The archive's file paths; its refusal as an :class:`UploadRefused`."""
    try:
        return inspect_archive(source, kind, size=size, name=name, limits=limits.archive)
    except ArchiveRefused as refusal:
        raise UploadRefused.from_archive(refusal) from None


def check_files(
    files: Sequence[tuple[BinaryIO, str]], limits: UploadLimits | None = None
) -> list[CheckedFile]:
    """Checks all the files of one submission, in order; refuses the lot on the first problem.

    Refused: no files, more than ``max_files``, two files with the same normalised name
    (``invalid_file``), together more than ``max_total_bytes`` (``file_too_large``), and
    anything :func:`check_file` refuses.
    """
    limits = limits or UploadLimits()
    _check_names(files, limits)
    checked: list[CheckedFile] = []
    total = 0
    for fileobj, raw in files:
        result = check_file(fileobj, raw, limits)
        total += result.size
        if total > limits.max_total_bytes:
            raise submission_too_large_error(limits.max_total_bytes)
        checked.append(result)
    return checked


def _check_names(files: Sequence[tuple[BinaryIO, str]], limits: UploadLimits) -> None:
    """At least one file, at most ``max_files``, no two with the same normalised name."""
    if not files:
        raise UploadRefused("Choose at least one file to submit.")
    if len(files) > limits.max_files:
        raise UploadRefused(
            f"You chose {len(files)} files; at most {limits.max_files} can be submitted at "
            "once. Put them in a .zip archive instead."
        )
    seen: set[str] = set()
    for _, raw in files:
        name = normalise_name(raw, max_length=limits.max_name_length)
        if name in seen:
            raise UploadRefused(
                f"Two of the files are named {quoted(name)}; rename one of them.", file_name=name
            )
        seen.add(name)
