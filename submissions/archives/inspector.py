"""What the zip and tar checks share: :class:`Inspector` holds one archive being checked
(its file object, size, name, limits and catalogue of paths) and raises every refusal, so the
messages are written once; ``DAMAGE`` is what the standard library raises for a damaged
archive."""

from __future__ import annotations

import lzma
import struct
import tarfile
import unicodedata
import zipfile
import zlib
from typing import IO, NoReturn

from submissions.archives.limits import ArchiveLimits
from submissions.archives.paths import DRIVE, SEPARATORS, Catalogue, is_control
from submissions.archives.refusal import (
    FILE_TOO_LARGE,
    INVALID_FILE,
    KB,
    ArchiveRefused,
    quoted,
    shown,
    size_text,
)

DATA_CHUNK = 64 * KB  # member data, in and out of a decompressor

# What a damaged archive makes the standard library raise. ArchiveRefused is none of these.
DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    ValueError,
    NotImplementedError,
    OverflowError,
)


class Inspector:
    """One archive (already size-checked) being inspected without extracting it."""

    def __init__(self, fileobj: IO[bytes], size: int, name: str, limits: ArchiveLimits) -> None:
        self.f = fileobj
        self.size = size
        self.name = name
        self.limits = limits
        self.catalogue = Catalogue(self.refuse)

    # -- refusals --

    def refuse(self, text: str, member: str | None = None, code: str = INVALID_FILE) -> NoReturn:
        """Refuses with ``text`` after the archive's name."""
        raise ArchiveRefused(
            f"{shown(self.name)}: {text}", code=code, name=self.name, member=member
        )

    def refuse_whole(self, text: str) -> NoReturn:
        """Refuses with ``text``, a whole sentence that names the archive itself."""
        raise ArchiveRefused(text, name=self.name)

    def not_a_zip(self) -> NoReturn:
        self.refuse_whole(
            f"{shown(self.name)} is not a valid zip archive; it may be damaged, incomplete or "
            "of another kind."
        )

    def not_a_tar(self) -> NoReturn:
        self.refuse_whole(
            f"{shown(self.name)} is not a valid tar archive; it may be damaged, incomplete "
            "or of another kind."
        )

    def damaged(self, member: str | None = None, why: str = "") -> NoReturn:
        if member is None:
            self.refuse("the archive is damaged or incomplete; make it again and resubmit.")
        self.refuse(
            f"the archive is damaged: {quoted(member)} {why or 'cannot be read'}; "
            "make it again and resubmit.",
            member,
        )

    def misleading(self, text: str, member: str | None = None) -> NoReturn:
        """Refuses what only a damaged or crafted archive contains."""
        self.refuse(f"{text}; it is damaged or was crafted to mislead.", member)

    def too_large(self) -> NoReturn:
        self.refuse(
            "the archive unpacks to more than "
            f"{size_text(self.limits.max_uncompressed_bytes)}, the most one archive may hold.",
            code=FILE_TOO_LARGE,
        )

    def too_many(self) -> NoReturn:
        self.refuse(
            f"the archive contains more than {self.limits.max_members} entries, "
            "the most one archive may hold."
        )

    def encrypted(self, raw: str) -> NoReturn:
        self.refuse(
            f"{quoted(raw)} is encrypted (password-protected); make the archive again without "
            "a password.",
            raw,
        )

    def refuse_link(self, raw: str, what: str) -> NoReturn:
        self.refuse(
            f"the archive contains {quoted(raw)}, {what}; only ordinary files and folders are "
            "accepted.",
            raw,
        )

    def check_ratio(self, uncompressed: int, compressed: int, member: str | None = None) -> None:
        """Refuses compression beyond ``max_ratio`` once past the grace size."""
        limits = self.limits
        if uncompressed <= limits.ratio_grace_bytes:
            return
        if compressed > 0 and uncompressed <= limits.max_ratio * compressed:
            return
        what = "the archive" if member is None else quoted(member)
        self.refuse(
            f"{what} is compressed more than {limits.max_ratio} times over, which is "
            "how zip bombs are built; the portal cannot accept it.",
            member,
        )

    # -- member names --

    def member_path(self, raw: str) -> tuple[str, ...]:
        """The member's path as normalised components; refuses unsafe names."""
        self.check_raw_name(raw)
        parts = [p for p in SEPARATORS.split(raw) if p not in ("", ".")]
        if ".." in parts:
            self.refuse(
                f"the archive contains {quoted(raw)}, a path that leaves the archive's folder.",
                raw,
            )
        limits = self.limits
        if len(parts) > limits.max_depth:
            self.refuse(
                f"{quoted(raw)} is nested {len(parts)} levels deep; an archive may nest at most "
                f"{limits.max_depth}.",
                raw,
            )
        normal = tuple(unicodedata.normalize("NFC", p) for p in parts)
        if any(len(p.encode("utf-8", "surrogatepass")) > limits.max_name_length for p in normal):
            self.refuse(
                f"the archive contains a name longer than {limits.max_name_length} bytes "
                f"({quoted(raw)}); use shorter names.",
                raw,
            )
        return normal

    def check_raw_name(self, raw: str) -> None:
        """The member's name as the archive spells it: no control characters, not anchored
        at a root or a drive."""
        if any(is_control(ch) for ch in raw):
            self.refuse(
                f"the archive contains a name with control characters or bytes that are not "
                f"text ({quoted(raw)}); rename that file and make the archive again.",
                raw,
            )
        if raw.startswith(("/", "\\")):
            self.refuse(
                f"the archive contains {quoted(raw)}, an absolute path; paths inside an archive "
                "must be relative to its folder.",
                raw,
            )
        if DRIVE.match(raw):
            self.refuse(
                f"the archive contains {quoted(raw)}, a path that names a drive; paths inside an "
                "archive must be relative to its folder.",
                raw,
            )

    # -- the result --

    def files(self) -> tuple[str, ...]:
        """The archive's file paths, in archive order; refuses an archive without files."""
        if not self.catalogue.files:
            self.refuse("the archive is empty; it contains no files.")
        return tuple(self.catalogue.files)
