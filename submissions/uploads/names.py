"""Uploaded file names made safe to store: :func:`normalise_name`. The characters it drops
are those an archive's member names may not contain (:mod:`submissions.archives.paths`)."""

from __future__ import annotations

import re
import unicodedata

from submissions.archives.paths import DRIVE, SEPARATORS, is_control
from submissions.archives.refusal import quoted
from submissions.uploads.errors import UploadRefused

_TRIM = re.compile(r"^[\s.]+|[\s.]+$")


def normalise_name(name: str, *, max_length: int = 255) -> str:
    """The file name a browser sent, made safe to store.

    Control characters (and line separators, bidirectional overrides, lone surrogates) are
    removed; only the part after the last ``/`` or ``\\`` is kept, and a leading drive
    (``C:``) is dropped; the result is NFC with surrounding whitespace and dots trimmed (so
    ``.gitignore`` becomes ``gitignore``). Spaces inside and ordinary Unicode letters stay.
    Refused (``invalid_file``) when nothing is left, or when it is longer than ``max_length``
    UTF-8 bytes (the file systems' limit).
    """
    cleaned = "".join(ch for ch in name if not is_control(ch))
    base = DRIVE.sub("", SEPARATORS.split(cleaned)[-1])
    base = unicodedata.normalize("NFC", _TRIM.sub("", unicodedata.normalize("NFC", base)))
    if not base or base in {".", ".."}:
        raise UploadRefused(
            f"The file name {quoted(name)} cannot be used; rename the file and choose it again.",
            file_name=name,
        )
    if len(base.encode("utf-8")) > max_length:
        raise UploadRefused(
            f"The file name {quoted(base)} is too long (at most {max_length} bytes); "
            "rename the file and choose it again.",
            file_name=base,
        )
    return base
