"""Upload safety for student submissions: names, sizes, hashes and archives, checked before
anything is stored. Pure Python: no Django and no models (the refusal is
:class:`portal.errors.ApplicationError`, so the API and the pages show it as they show any
other refusal).

What a file goes through (:func:`check_file`):

* Its name is made safe (:func:`normalise_name`): the base name only, NFC, no control
  characters, no surrounding whitespace or dots.
* It is read once, in chunks, for its size and SHA-256; reading stops one byte past
  ``max_file_bytes`` (``file_too_large``, HTTP 413).
* It is inspected as an archive when its *name* says archive (``.zip``; ``.tar``, ``.tar.gz``,
  ``.tgz``, ``.tar.bz2``, ``.tbz2``, ``.tar.xz``, ``.txz``), never extracted: zipfile and tarfile
  read the same file object, members' data is decompressed in memory in bounded chunks and
  thrown away. A name that says ``.zip`` must hold a zip (``PK`` at byte 0); a tar-family name
  may hold a plain, gzip, bzip2 or xz tar whatever its suffix says (compression is told by
  magic bytes, the way ``tar -xf`` does). Files with other names (``.py``, ``.ipynb``, a
  ``.docx`` which is a zip inside) are opaque data: ``is_archive`` is false and whoever unpacks
  submissions (the grading sandbox) must unpack only files with ``is_archive`` true.

Archive rules (all ``invalid_file`` unless noted):

* every member path relative and inside the archive: no ``..`` component, no leading ``/`` or
  ``\\`` (UNC), no drive letter (``C:``); ``\\`` counts as a separator, so ``..\\..\\x`` is
  traversal too; ``./`` prefixes and empty components are dropped;
* no control characters (Unicode ``Cc``), undecodable bytes, line/paragraph separators or
  bidirectional overrides in member names (``exe\\u202etxt.py`` disguises itself);
* at most ``archive_max_depth`` path components (``a/b/c.py`` is 3), each at most
  ``max_name_length`` UTF-8 bytes;
* only regular files and folders: no symbolic links, hard links, devices, FIFOs, sparse
  files; a zip member's Unix mode (``external_attr >> 16``) is read whatever system made it;
* no duplicate paths after normalisation (NFC, ``./`` dropped, ``\\`` as ``/``), and no path
  that is both a file and a folder; comparison is case-sensitive (the sandbox is Linux);
* at most ``archive_max_members`` entries (for a zip also checked from the end-of-central-
  directory record *before* zipfile parses the directory, so a huge directory is not loaded);
* declared uncompressed total at most ``archive_max_uncompressed_bytes``
  (``file_too_large``: a big dataset is "too large", not "invalid");
* compression ratio at most ``archive_max_ratio``, per zip member and for the whole archive,
  once the uncompressed size passes ``archive_ratio_grace_bytes`` (a small, very repetitive
  file is normal; Apache POI's zip-bomb guard works the same way);
* the *actual* bytes: every zip member's raw data is inflated independently of zipfile with
  an output budget of its declared size + 1, so a header that under-states the size is caught
  even when its CRC was forged to match the truncated data (Python's zipfile would silently
  truncate; ``unzip`` would not); the CRC is checked; local and central names must agree;
  entries must not overlap; a tar's decompressed stream is read through a byte budget
  (uncompressed limit and ratio) and to its end, so gzip/bzip2/xz integrity is checked; any
  single read of tar header data (GNU long names, pax records) is capped at 1 MiB;
* no encrypted zip members; only stored, deflate and bzip2 zip members (LZMA, Deflate64 and
  others are refused: they cannot be checked with a bounded budget here);
* a damaged archive (bad directory, bad CRC, truncated stream, junk where a tar header should
  be) is refused; so is an archive with no files at all (an empty ``.zip`` is almost always a
  mistake, better told now than by a zero from the autograder).

Nested archives (a zip inside a zip) are not opened: they are opaque members.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import re
import stat
import struct
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, fields
from typing import IO, Any, BinaryIO, NoReturn, Protocol

from portal.errors import ApplicationError

__all__ = [
    "FILE_TOO_LARGE",
    "INVALID_FILE",
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

INVALID_FILE = "invalid_file"
FILE_TOO_LARGE = "file_too_large"

KB = 1024
MB = 1024 * KB

_READ_CHUNK = 1 * MB  # hashing reads
_DATA_CHUNK = 64 * KB  # archive member data, in and out of the decompressor
_MAX_HEADER_READ = 1 * MB  # one read of tar header data (GNU long name, pax record)
_SPOOL_IN_MEMORY = 8 * MB  # a non-seekable archive is spooled; beyond this, to a temp file
_ZIP_CD_ENTRY_SLACK = 46 + 1024  # fixed central-directory entry + room for extras/comments

_ZIP_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
}
_ZIP_METHOD_NAMES = {zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64", 93: "Zstandard", 99: "AES"}

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")
_TRIM = re.compile(r"^[\s.]+|[\s.]+$")
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_CONTROL_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


# ---- the refusal ------------------------------------------------------------------------------


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
        super().__init__(message, code=code, **extra)
        self.status = 413 if self.code == FILE_TOO_LARGE else 400
        self.file_name = file_name
        self.member = member


def _size(n: int) -> str:
    """A byte count the way a person reads it: 50 MB, 1.5 MB, 300 KB, 12 bytes."""
    for unit, scale in (("GB", 1024 * MB), ("MB", MB), ("KB", KB)):
        if n >= scale:
            if n % scale == 0:
                return f"{n // scale} {unit}"
            return f"{n * 10 // scale / 10:.1f} {unit}"  # rounded down: never over-states a limit
    return f"{n} bytes"


def _shown(text: str, limit: int = 120) -> str:
    """``text`` safe to put in a message: unprintable characters escaped, long text cut."""
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _q(text: str) -> str:
    return f"'{_shown(text)}'"


def file_too_large_error(name: str, limit: int) -> UploadRefused:
    """The refusal for one file over ``limit`` bytes (also used by the upload handler)."""
    return UploadRefused(
        f"{_shown(name)} is larger than {_size(limit)}, the most one file may be.",
        code=FILE_TOO_LARGE,
        file_name=name,
    )


def submission_too_large_error(limit: int) -> UploadRefused:
    """The refusal for a submission's files together over ``limit`` bytes."""
    return UploadRefused(
        f"Together the files are larger than {_size(limit)}, the most one submission may be.",
        code=FILE_TOO_LARGE,
    )


# ---- limits and results -----------------------------------------------------------------------


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
        for field in fields(self):
            value = getattr(self, field.name)
            least = 0 if field.name == "archive_ratio_grace_bytes" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"UploadLimits.{field.name} must be an integer >= {least}.")


@dataclass(frozen=True)
class CheckedFile:
    """One accepted file. ``members``: an archive's file paths (normalised, ``/``-separated,
    in archive order, folders left out); empty for a file that is not an archive."""

    name: str
    size: int
    sha256: str
    is_archive: bool
    members: tuple[str, ...] = ()


# ---- names ------------------------------------------------------------------------------------


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in _CONTROL_CATEGORIES or ch in _BIDI_CONTROLS


def normalise_name(name: str, *, max_length: int = 255) -> str:
    """The file name a browser sent, made safe to store.

    Control characters (and line separators, bidirectional overrides, lone surrogates) are
    removed; only the part after the last ``/`` or ``\\`` is kept, and a leading drive
    (``C:``) is dropped; the result is NFC with surrounding whitespace and dots trimmed (so
    ``.gitignore`` becomes ``gitignore``). Spaces inside and ordinary Unicode letters stay.
    Refused (``invalid_file``) when nothing is left, or when it is longer than ``max_length``
    UTF-8 bytes (the file systems' limit).
    """
    cleaned = "".join(ch for ch in name if not _is_control(ch))
    base = _DRIVE.sub("", _SEPARATORS.split(cleaned)[-1])
    base = unicodedata.normalize("NFC", _TRIM.sub("", unicodedata.normalize("NFC", base)))
    if not base or base in {".", ".."}:
        raise UploadRefused(
            f"The file name {_q(name)} cannot be used; rename the file and choose it again.",
            file_name=name,
        )
    if len(base.encode("utf-8")) > max_length:
        raise UploadRefused(
            f"The file name {_q(base)} is too long (at most {max_length} bytes); "
            "rename the file and choose it again.",
            file_name=base,
        )
    return base


def archive_kind(name: str) -> str | None:
    """``"zip"``, ``"tar"`` or ``None``: what a (normalised) file name says the file is."""
    lower = name.lower()
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith(_TAR_SUFFIXES):
        return "tar"
    return None


# ---- one file ---------------------------------------------------------------------------------


def _seekable(fileobj: IO[bytes]) -> bool:
    try:
        return bool(fileobj.seekable())
    except (AttributeError, ValueError, OSError):
        return False


def check_file(fileobj: BinaryIO, name: str, limits: UploadLimits | None = None) -> CheckedFile:
    """Checks one uploaded file; returns what was found or raises :class:`UploadRefused`.

    Reads from the start when ``fileobj`` is seekable (and leaves it at the start again), in
    chunks, never more than ``max_file_bytes + 1`` bytes. An archive that is not seekable is
    spooled (in memory up to 8 MB, then a temporary file) so it can be inspected.
    """
    limits = limits or UploadLimits()
    safe = normalise_name(name, max_length=limits.max_name_length)
    kind = archive_kind(safe)
    seekable = _seekable(fileobj)
    if seekable:
        fileobj.seek(0)
    spool: IO[bytes] | None = None
    if kind and not seekable:
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    try:
        digest = hashlib.sha256()
        size = 0
        while True:
            chunk = fileobj.read(min(_READ_CHUNK, limits.max_file_bytes + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_file_bytes:
                raise file_too_large_error(safe, limits.max_file_bytes)
            digest.update(chunk)
            if spool is not None:
                spool.write(chunk)
        members: tuple[str, ...] = ()
        if kind is not None:
            source: IO[bytes] = spool if spool is not None else fileobj
            members = _ArchiveInspector(source, size, safe, limits).inspect(kind)
    finally:
        if spool is not None:
            spool.close()
        if seekable:
            fileobj.seek(0)
    return CheckedFile(
        name=safe,
        size=size,
        sha256=digest.hexdigest(),
        is_archive=kind is not None,
        members=members,
    )


def check_files(
    files: Sequence[tuple[BinaryIO, str]], limits: UploadLimits | None = None
) -> list[CheckedFile]:
    """Checks all the files of one submission, in order; refuses the lot on the first problem.

    Refused: no files, more than ``max_files``, two files with the same normalised name
    (``invalid_file``), together more than ``max_total_bytes`` (``file_too_large``), and
    anything :func:`check_file` refuses.
    """
    limits = limits or UploadLimits()
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
                f"Two of the files are named {_q(name)}; rename one of them.", file_name=name
            )
        seen.add(name)
    checked: list[CheckedFile] = []
    total = 0
    for fileobj, raw in files:
        result = check_file(fileobj, raw, limits)
        total += result.size
        if total > limits.max_total_bytes:
            raise submission_too_large_error(limits.max_total_bytes)
        checked.append(result)
    return checked


# ---- archives ---------------------------------------------------------------------------------

# What a damaged archive makes the standard library raise. UploadRefused is none of these.
_DAMAGE = (
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


class _Catalogue:
    """The paths seen in one archive: duplicates and file/folder clashes are refused."""

    def __init__(self, refuse: Callable[[str, str], NoReturn]) -> None:
        self._refuse = refuse
        self.files: dict[str, None] = {}
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
                self._refuse(
                    f"the archive contains {_q(parent)} both as a file and as a folder.", raw
                )
            self.folders.add(parent)
        if is_folder:
            if path in self.files:
                self._refuse(
                    f"the archive contains {_q(path)} both as a file and as a folder.", raw
                )
            self.folders.add(path)
            return
        if path in self.files:
            self._refuse(f"the archive contains {_q(path)} more than once.", raw)
        if path in self.folders:
            self._refuse(f"the archive contains {_q(path)} both as a file and as a folder.", raw)
        self.files[path] = None


class _Stream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class _BoundedReader:
    """A read-only, forward-seeking view of a (decompressing) stream with a byte budget.

    tarfile reads headers and seeks over data through it: seeking or reading past ``limit``
    calls ``over()``; one read larger than ``max_read`` calls ``big()``. Remembers the last
    read (and where it began) so the caller can see why tarfile stopped.
    """

    def __init__(
        self,
        raw: _Stream,
        limit: int,
        over: Callable[[], NoReturn],
        big: Callable[[], NoReturn],
        max_read: int = _MAX_HEADER_READ,
    ) -> None:
        self.raw = raw
        self.limit = limit
        self.over = over
        self.big = big
        self.max_read = max_read
        self.pos = 0
        self.last_at = -1
        self.last = b""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.max_read:
            self.big()
        data = self.raw.read(size)
        self.last_at, self.last = self.pos, data
        self.pos += len(data)
        if self.pos > self.limit:
            self.over()
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 1:
            offset += self.pos
        elif whence != 0:
            raise OSError("only forward seeks from the start or the current position")
        if offset > self.limit:
            self.over()
        self.pos = self.raw.seek(offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def write(self, data: bytes, /) -> int:
        raise OSError("read-only")

    def close(self) -> None:
        """The owner closes ``raw``."""

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


class _ArchiveInspector:
    """Inspects one archive (already size-checked and hashed) without extracting it."""

    def __init__(self, fileobj: IO[bytes], size: int, name: str, limits: UploadLimits) -> None:
        self.f = fileobj
        self.size = size
        self.name = name
        self.limits = limits
        self.catalogue = _Catalogue(self.refuse)

    # -- refusals --

    def refuse(self, text: str, member: str | None = None, code: str = INVALID_FILE) -> NoReturn:
        raise UploadRefused(
            f"{_shown(self.name)}: {text}", code=code, file_name=self.name, member=member
        )

    def damaged(self, member: str | None = None, why: str = "") -> NoReturn:
        if member is None:
            self.refuse("the archive is damaged or incomplete; make it again and resubmit.")
        self.refuse(
            f"the archive is damaged: {_q(member)} {why or 'cannot be read'}; "
            "make it again and resubmit.",
            member,
        )

    def too_large(self) -> NoReturn:
        self.refuse(
            "the archive unpacks to more than "
            f"{_size(self.limits.archive_max_uncompressed_bytes)}, the most one archive may hold.",
            code=FILE_TOO_LARGE,
        )

    def too_many(self) -> NoReturn:
        self.refuse(
            f"the archive contains more than {self.limits.archive_max_members} entries, "
            "the most one archive may hold."
        )

    def check_ratio(self, uncompressed: int, compressed: int, member: str | None = None) -> None:
        """Refuses compression beyond ``archive_max_ratio`` once past the grace size."""
        limits = self.limits
        if uncompressed <= limits.archive_ratio_grace_bytes:
            return
        if compressed > 0 and uncompressed <= limits.archive_max_ratio * compressed:
            return
        what = "the archive" if member is None else _q(member)
        self.refuse(
            f"{what} is compressed more than {limits.archive_max_ratio} times over, which is "
            "how zip bombs are built; the portal cannot accept it.",
            member,
        )

    # -- member names --

    def member_path(self, raw: str) -> tuple[str, ...]:
        """The member's path as normalised components; refuses unsafe names."""
        if any(_is_control(ch) for ch in raw):
            self.refuse(
                f"the archive contains a name with control characters or bytes that are not "
                f"text ({_q(raw)}); rename that file and make the archive again.",
                raw,
            )
        if raw.startswith(("/", "\\")):
            self.refuse(
                f"the archive contains {_q(raw)}, an absolute path; paths inside an archive "
                "must be relative to its folder.",
                raw,
            )
        if _DRIVE.match(raw):
            self.refuse(
                f"the archive contains {_q(raw)}, a path that names a drive; paths inside an "
                "archive must be relative to its folder.",
                raw,
            )
        parts = [p for p in _SEPARATORS.split(raw) if p not in ("", ".")]
        if ".." in parts:
            self.refuse(
                f"the archive contains {_q(raw)}, a path that leaves the archive's folder.", raw
            )
        limits = self.limits
        if len(parts) > limits.archive_max_depth:
            self.refuse(
                f"{_q(raw)} is nested {len(parts)} levels deep; an archive may nest at most "
                f"{limits.archive_max_depth}.",
                raw,
            )
        normal = tuple(unicodedata.normalize("NFC", p) for p in parts)
        if any(len(p.encode("utf-8", "surrogatepass")) > limits.max_name_length for p in normal):
            self.refuse(
                f"the archive contains a name longer than {limits.max_name_length} bytes "
                f"({_q(raw)}); use shorter names.",
                raw,
            )
        return normal

    def refuse_link(self, raw: str, what: str) -> NoReturn:
        self.refuse(
            f"the archive contains {_q(raw)}, {what}; only ordinary files and folders are "
            "accepted.",
            raw,
        )

    # -- entry point --

    def inspect(self, kind: str) -> tuple[str, ...]:
        try:
            if kind == "zip":
                self.inspect_zip()
            else:
                self.inspect_tar()
        except _DAMAGE:
            self.damaged()
        if not self.catalogue.files:
            self.refuse("the archive is empty; it contains no files.")
        return tuple(self.catalogue.files)

    # -- zip --

    def not_a_zip(self) -> NoReturn:
        raise UploadRefused(
            f"{_shown(self.name)} is not a valid zip archive; it may be damaged, incomplete or "
            "of another kind.",
            file_name=self.name,
        )

    def inspect_zip(self) -> None:
        f = self.f
        f.seek(0)
        if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
            self.not_a_zip()
        self.zip_directory_precheck()
        try:
            archive = zipfile.ZipFile(f)
        except (*_DAMAGE, UnicodeDecodeError):
            self.not_a_zip()
        with archive:
            infos = archive.infolist()
            if len(infos) > self.limits.archive_max_members:
                self.too_many()
            declared = 0
            for info in infos:
                raw = info.orig_filename
                parts = self.member_path(raw)
                if info.flag_bits & 0x1:
                    self.refuse(
                        f"{_q(raw)} is encrypted (password-protected); make the archive again "
                        "without a password.",
                        raw,
                    )
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    self.refuse_link(raw, "a symbolic link")
                if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                    self.refuse_link(raw, "a device, pipe or other special file")
                if info.compress_type not in _ZIP_METHODS:
                    method = _ZIP_METHOD_NAMES.get(info.compress_type, f"#{info.compress_type}")
                    self.refuse(
                        f"{_q(raw)} is compressed with a method the portal cannot check "
                        f"({method}); make the archive again with standard zip compression.",
                        raw,
                    )
                self.catalogue.add(parts, raw.endswith(("/", "\\")), raw)
                declared += info.file_size
                if declared > self.limits.archive_max_uncompressed_bytes:
                    self.too_large()
                self.check_ratio(info.file_size, info.compress_size, raw)
            self.check_ratio(declared, self.size)
            self.verify_zip_data(archive, infos)

    def zip_directory_precheck(self) -> None:
        """Refuses too many entries from the end-of-central-directory record, before zipfile
        reads the whole central directory into memory. Finds the record the way zipfile does;
        anything it cannot make sense of is left to zipfile."""
        f, size = self.f, self.size
        if size < 22:
            return
        tail_len = min(size, 22 + 0xFFFF + 20 + 56)
        f.seek(size - tail_len)
        tail = f.read(tail_len)
        at = len(tail) - 22
        if tail[at : at + 4] != b"PK\x05\x06" or tail[-2:] != b"\0\0":
            at = tail.rfind(b"PK\x05\x06")
            if at < 0 or len(tail) - at < 22:
                return
        entries, directory_size = struct.unpack("<HL", tail[at + 10 : at + 16])
        if entries == 0xFFFF or directory_size == 0xFFFFFFFF:
            zip64 = tail[at - 76 : at - 20] if at >= 76 else b""
            if tail[at - 20 : at - 16] == b"PK\x06\x07" and zip64[:4] == b"PK\x06\x06":
                entries, directory_size = struct.unpack("<QQ", zip64[32:48])
        limits = self.limits
        per_entry = _ZIP_CD_ENTRY_SLACK + limits.archive_max_depth * (limits.max_name_length + 1)
        if (
            entries > limits.archive_max_members
            or directory_size > limits.archive_max_members * per_entry
        ):
            self.too_many()

    def verify_zip_data(self, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
        ordered = sorted(infos, key=lambda info: info.header_offset)
        directory_start: int = getattr(archive, "start_dir", self.size)
        encoding: str = getattr(archive, "metadata_encoding", None) or "cp437"
        for i, info in enumerate(ordered):
            end = ordered[i + 1].header_offset if i + 1 < len(ordered) else directory_start
            self.verify_zip_member(info, end, encoding)

    def verify_zip_member(self, info: zipfile.ZipInfo, end: int, encoding: str) -> None:
        f, raw = self.f, info.orig_filename
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            self.damaged(raw, "has no local header")
        flags, method, _, _, crc, compress_size, file_size, name_length, extra_length = (
            struct.unpack("<HHHHLLLHH", header[6:30])
        )
        if flags & 0x1:
            self.refuse(
                f"{_q(raw)} is encrypted (password-protected); make the archive again without "
                "a password.",
                raw,
            )
        try:
            local_name = f.read(name_length).decode("utf-8" if info.flag_bits & 0x800 else encoding)
        except UnicodeDecodeError:
            self.damaged(raw, "has an unreadable name")
        if local_name != raw:
            self.refuse(
                f"the archive lists {_q(raw)} under two different names ({_q(local_name)}); "
                "it is damaged or was crafted to mislead.",
                raw,
            )
        start = info.header_offset + 30 + name_length + extra_length
        if start + info.compress_size > end:
            self.damaged(raw, "overlaps another entry")
        # Tools that read local headers (streaming unzippers) must see what the directory says.
        described = [(method, info.compress_type)]
        if not flags & 0x8:  # without a data descriptor the local header carries CRC and sizes
            described.append((crc, info.CRC))
            if 0xFFFFFFFF not in (compress_size, file_size):  # else in the zip64 extra field
                described += [(compress_size, info.compress_size), (file_size, info.file_size)]
        if any(local != central for local, central in described):
            self.refuse(
                f"the archive describes {_q(raw)} in two different ways; it is damaged or was "
                "crafted to mislead.",
                raw,
            )
        f.seek(start)
        self.inflate(info)

    def inflate(self, info: zipfile.ZipInfo) -> None:
        """Decompresses one member's raw data in bounded chunks, counting the real output
        (never more than one byte past the declared size) and its CRC."""
        raw, declared = info.orig_filename, info.file_size
        produced = 0
        crc = 0

        def take(out: bytes) -> None:
            nonlocal produced, crc
            produced += len(out)
            if produced > declared:
                self.refuse(
                    f"{_q(raw)} unpacks to more data than the archive declares; the archive is "
                    "damaged or was crafted to mislead.",
                    raw,
                )
            crc = zlib.crc32(out, crc)

        def budget() -> int:
            return min(_DATA_CHUNK, declared - produced + 1)

        def chunks() -> Iterator[bytes]:
            left = info.compress_size
            while left:
                chunk = self.f.read(min(_DATA_CHUNK, left))
                if not chunk:
                    self.damaged(raw, "is cut short")
                left -= len(chunk)
                yield chunk

        method = info.compress_type
        if declared == 0 and info.compress_size == 0:
            pass
        elif method == zipfile.ZIP_STORED:
            for chunk in chunks():
                take(chunk)
        elif method == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            for chunk in chunks():
                data = chunk
                while not inflater.eof:
                    out = inflater.decompress(data, budget())
                    take(out)
                    data = inflater.unconsumed_tail
                    if not data and not out:
                        break
                if inflater.eof:
                    break
            if not inflater.eof:
                self.damaged(raw, "is cut short")
        else:  # bzip2
            unbzip = bz2.BZ2Decompressor()
            for chunk in chunks():
                if unbzip.eof:
                    break
                take(unbzip.decompress(chunk, budget()))
                while not unbzip.eof and not unbzip.needs_input:
                    take(unbzip.decompress(b"", budget()))
            if not unbzip.eof:
                self.damaged(raw, "is cut short")
        if produced != declared:
            self.damaged(raw, "is shorter than the archive declares")
        if crc != info.CRC:
            self.damaged(raw, "fails its integrity (CRC) check")

    # -- tar --

    def inspect_tar(self) -> None:
        with ExitStack() as stack:
            self.inspect_tar_in(stack)

    def inspect_tar_in(self, stack: ExitStack) -> None:
        f, limits = self.f, self.limits
        f.seek(0)
        magic = f.read(6)
        f.seek(0)
        stream: _Stream = f
        if magic[:2] == b"\x1f\x8b":
            stream = stack.enter_context(gzip.GzipFile(fileobj=f, mode="rb"))
        elif magic[:3] == b"BZh":
            stream = stack.enter_context(bz2.BZ2File(f))
        elif magic == b"\xfd7zXZ\x00":
            stream = stack.enter_context(lzma.LZMAFile(f))  # noqa: SIM115
        compressed = stream is not f
        # Headers, padding and the end-of-archive blocks on top of the members' bytes.
        overhead = (2 * limits.archive_max_members + 2) * tarfile.BLOCKSIZE + tarfile.RECORDSIZE
        size_bound = limits.archive_max_uncompressed_bytes + overhead
        ratio_bound = max(limits.archive_ratio_grace_bytes, limits.archive_max_ratio * self.size)
        limit = min(size_bound, ratio_bound) if compressed else size_bound

        def over() -> NoReturn:
            if limit < size_bound:
                self.check_ratio(limit + 1, self.size)
            self.too_large()

        def big() -> NoReturn:
            self.refuse(
                "the archive has a header far larger than any real archive needs; it is "
                "damaged or was crafted to mislead."
            )

        reader = _BoundedReader(stream, limit, over, big)
        try:
            archive = stack.enter_context(tarfile.open(fileobj=reader, mode="r:"))  # noqa: SIM115
        except tarfile.ReadError:
            raise UploadRefused(
                f"{_shown(self.name)} is not a valid tar archive; it may be damaged, incomplete "
                "or of another kind.",
                file_name=self.name,
            ) from None
        count = 0
        declared = 0
        while (member := archive.next()) is not None:
            count += 1
            if count > limits.archive_max_members:
                self.too_many()
            raw = member.name
            parts = self.member_path(raw)
            if member.issym():
                self.refuse_link(raw, "a symbolic link")
            if member.islnk():
                self.refuse_link(raw, "a hard link")
            if member.issparse() or not (member.isreg() or member.isdir()):
                self.refuse_link(raw, "a device, pipe or other special file")
            self.catalogue.add(parts, member.isdir(), raw)
            declared += member.size
            if declared > limits.archive_max_uncompressed_bytes:
                self.too_large()
        # tarfile ends quietly at anything that is not a header; only the end-of-archive
        # zero blocks (or the plain end of the data) are a proper end.
        last = reader.last if reader.last_at == archive.offset else b""
        if last.strip(b"\0") or 0 < len(last) < tarfile.BLOCKSIZE:
            self.damaged()
        if compressed:  # read to the end: the compressor's own integrity check
            while reader.read(_DATA_CHUNK):
                pass
            self.check_ratio(reader.pos, self.size)
