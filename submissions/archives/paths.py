"""Names and paths inside an archive: which characters are never accepted, what separates
and what anchors a path, and :class:`Catalogue`, the paths one archive holds (duplicates and
file/folder clashes refused). Uploaded file names (``submissions.uploads.normalise_name``)
use the same character rules."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import NoReturn

from submissions.archives.refusal import quoted

DRIVE = re.compile(r"^[A-Za-z]:")
SEPARATORS = re.compile(r"[/\\]")
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def is_control(ch: str) -> bool:
    """Control characters, lone surrogates (undecodable bytes), line and paragraph
    separators, and bidirectional overrides (``exe\\u202etxt.py`` disguises itself)."""
    return unicodedata.category(ch) in _CONTROL_CATEGORIES or ch in _BIDI_CONTROLS


Refuse = Callable[[str, str], NoReturn]
"""``refuse(text, member)``: raises the archive's refusal about ``member``."""


class Catalogue:
    """The paths seen in one archive: duplicates and file/folder clashes are refused.

    ``files`` maps each file's normalised path to its name as the archive spells it, in
    archive order; folders are kept apart, in ``folders``.
    """

    def __init__(self, refuse: Refuse) -> None:
        self._refuse = refuse
        self.files: dict[str, str] = {}
        self.folders: set[str] = set()

    def add(self, parts: tuple[str, ...], is_folder: bool, raw: str) -> None:
        if not parts:
            if is_folder:  # "./": the archive's own folder
                return
            self._refuse("the archive contains a file without a name.", raw)
        path = "/".join(parts)
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in self.files:
                self._both(parent, raw)
            self.folders.add(parent)
        if is_folder:
            if path in self.files:
                self._both(path, raw)
            self.folders.add(path)
            return
        if path in self.files:
            self._refuse(f"the archive contains {quoted(path)} more than once.", raw)
        if path in self.folders:
            self._both(path, raw)
        self.files[path] = raw

    def _both(self, path: str, raw: str) -> NoReturn:
        self._refuse(f"the archive contains {quoted(path)} both as a file and as a folder.", raw)
