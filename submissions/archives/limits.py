"""How much one archive may hold: :class:`ArchiveLimits`, and the check that every limit is
a whole number (shared with ``submissions.uploads.UploadLimits``)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from submissions.archives.refusal import MB


def require_whole_numbers(limits: Any, *, may_be_zero: frozenset[str] = frozenset()) -> None:
    """Raises ``ValueError`` naming the first field of the dataclass ``limits`` that is not an
    integer >= 1 (>= 0 for the fields in ``may_be_zero``); ``True`` is no number here."""
    for field in fields(limits):
        value = getattr(limits, field.name)
        least = 0 if field.name in may_be_zero else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{type(limits).__name__}.{field.name} must be an integer >= {least}.")


@dataclass(frozen=True)
class ArchiveLimits:
    """What one archive may hold. Sizes are bytes (MB = 2**20).

    ``max_members``: entries, folders included. ``max_uncompressed_bytes``: the declared
    sizes of the members together. ``max_ratio``: uncompressed over compressed size, per zip
    member and for the whole archive, once the uncompressed size passes
    ``ratio_grace_bytes``. ``max_depth``: path components (``a/b/c.py`` is 3).
    ``max_name_length``: UTF-8 bytes in one component.
    """

    max_members: int = 1000
    max_uncompressed_bytes: int = 500 * MB
    max_ratio: int = 100
    ratio_grace_bytes: int = 1 * MB
    max_depth: int = 20
    max_name_length: int = 255

    def __post_init__(self) -> None:
        require_whole_numbers(self, may_be_zero=frozenset({"ratio_grace_bytes"}))
