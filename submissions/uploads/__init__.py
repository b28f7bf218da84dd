"""Upload safety for student submissions: names, sizes, hashes and archives, checked before
anything is stored. The refusal is :class:`UploadRefused`, a
:class:`portal.errors.ApplicationError`, so the API and the pages show it as they show any
other refusal. No models.

What a file goes through (:func:`check_file`):

* Its name is made safe (:func:`normalise_name`): the base name only, NFC, no control
  characters, no surrounding whitespace or dots.
* It is read once, in chunks, for its size and SHA-256; reading stops one byte past
  ``max_file_bytes`` (``file_too_large``, HTTP 413).
* It is inspected as an archive when its *name* says archive, never extracted, by the pure
  checks in :mod:`submissions.archives` (whose docstring lists the rules); their refusal
  becomes an ``UploadRefused`` with the same code and message. Files with other names
  (``.py``, ``.ipynb``, a ``.docx`` which is a zip inside) are opaque data: ``is_archive`` is
  false and whoever unpacks submissions (the grading sandbox) must unpack only files with
  ``is_archive`` true.

Modules: ``errors`` (UploadRefused and the size refusals), ``names`` (normalise_name),
``files`` (UploadLimits, CheckedFile, check_file, check_files).
"""

from submissions.archives import FILE_TOO_LARGE, INVALID_FILE, KB, MB, archive_kind
from submissions.uploads.errors import (
    UploadRefused,
    file_too_large_error,
    submission_too_large_error,
)
from submissions.uploads.files import CheckedFile, UploadLimits, check_file, check_files
from submissions.uploads.names import normalise_name

__all__ = [
    "FILE_TOO_LARGE",
    "INVALID_FILE",
    "KB",
    "MB",
    "CheckedFile",
    "UploadLimits",
    "UploadRefused",
    "archive_kind",
    "check_file",
    "check_files",
    "file_too_large_error",
    "normalise_name",
    "submission_too_large_error",
]
