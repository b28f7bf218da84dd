"""The refusal of an upload, :class:`UploadRefused`, and the refusals built in more than one
place (one file too large, a submission's files together too large)."""

from __future__ import annotations

from typing import Any

from portal.errors import ApplicationError
from submissions.archives import FILE_TOO_LARGE, INVALID_FILE, ArchiveRefused
from submissions.archives.refusal import shown, size_text


class UploadRefused(ApplicationError):
    """A file or a submission's files that the portal will not take.

    ``code`` is ``invalid_file`` (HTTP 400) or ``file_too_large`` (HTTP 413). The message names
    the file, and the member inside an archive; ``file_name`` and ``member`` carry them too.
    """

    code = INVALID_FILE
    status = 400
    default_message = "This file cannot be accepted."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        file_name: str | None = None,
        member: str | None = None,
        **extra: Any,
    ) -> None:
        status = 413 if (code or self.code) == FILE_TOO_LARGE else 400
        super().__init__(message, code=code, status=status, **extra)
        self.file_name = file_name
        self.member = member

    @classmethod
    def from_archive(cls, refusal: ArchiveRefused) -> UploadRefused:
        """The same refusal (code, message, archive name, member) as an ``UploadRefused``."""
        return cls(
            refusal.message, code=refusal.code, file_name=refusal.name, member=refusal.member
        )


def file_too_large_error(name: str, limit: int) -> UploadRefused:
    """The refusal for one file over ``limit`` bytes (also used by the upload handler)."""
    return UploadRefused(
        f"{shown(name)} is larger than {size_text(limit)}, the most one file may be.",
        code=FILE_TOO_LARGE,
        file_name=name,
    )


def submission_too_large_error(limit: int) -> UploadRefused:
    """The refusal for a submission's files together over ``limit`` bytes."""
    return UploadRefused(
        f"Together the files are larger than {size_text(limit)}, the most one submission may be.",
        code=FILE_TOO_LARGE,
    )
