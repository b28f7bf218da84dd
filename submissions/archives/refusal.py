"""The refusal the archive checks raise, and the words its messages are made of.

:class:`ArchiveRefused` is a plain exception (this package imports no Django and nothing from
the apps); :mod:`submissions.uploads` turns it into an ``UploadRefused`` with the same code and
message. The helpers here write sizes and names the way a person reads them.
"""

from __future__ import annotations

INVALID_FILE = "invalid_file"
FILE_TOO_LARGE = "file_too_large"

KB = 1024
MB = 1024 * KB


class ArchiveRefused(Exception):
    """An archive the checks will not take.

    ``code`` is ``invalid_file`` or ``file_too_large`` (an archive that unpacks to too much);
    ``message`` is a sentence that names the archive and, where there is one, the member;
    ``name`` is the archive's name as the checks were given it and ``member`` the member's
    name as the archive spells it (``None`` when the refusal is about the whole archive).

    Not a ``ValueError``: the standard library raises those (and ``OSError``) for damaged
    archives, and the checks catch them as damage; a refusal must never be caught so.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = INVALID_FILE,
        name: str | None = None,
        member: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.name = name
        self.member = member


def size_text(n: int) -> str:
    """A byte count the way a person reads it: 50 MB, 1.5 MB, 300 KB, 12 bytes."""
    for unit, scale in (("GB", 1024 * MB), ("MB", MB), ("KB", KB)):
        if n >= scale:
            if n % scale == 0:
                return f"{n // scale} {unit}"
            return f"{n * 10 // scale / 10:.1f} {unit}"  # rounded down: never over-states a limit
    return f"{n} bytes"


def shown(text: str, limit: int = 120) -> str:
    """``text`` safe to put in a message: unprintable characters escaped, long text cut."""
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def quoted(text: str) -> str:
    """``text`` as :func:`shown` writes it, in single quotes."""
    return f"'{shown(text)}'"
