"""Checks a tar (plain, gzip, bzip2 or xz, told by magic bytes the way ``tar -xf`` does)
without extracting it: the decompressed stream is read through a byte budget (uncompressed
limit and ratio) and to its end, so the compressor's integrity check runs; any single read of
header data (GNU long names, pax records) is capped; only regular files and folders pass."""

from __future__ import annotations

import bz2
import gzip
import lzma
import tarfile
from collections.abc import Callable
from contextlib import ExitStack
from typing import NoReturn, Protocol

from submissions.archives.inspector import DATA_CHUNK, Inspector

_MAX_HEADER_READ = 1024 * 1024  # one read of tar header data (GNU long name, pax record)


class _Stream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...


class BoundedReader:
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


def inspect_tar(ins: Inspector) -> None:
    """Checks the tar ``ins`` holds, adding its paths to ``ins.catalogue``; refuses through
    ``ins``. The standard library's exceptions for damage are left to the caller."""
    with ExitStack() as stack:
        stream = _decompressed(ins, stack)
        compressed = stream is not ins.f
        reader = _budgeted(ins, stream, compressed)
        try:
            archive = stack.enter_context(tarfile.open(fileobj=reader, mode="r:"))
        except tarfile.ReadError:
            ins.not_a_tar()
        _check_members(ins, archive)
        _check_end(ins, reader, archive)
        if compressed:  # read to the end: the compressor's own integrity check
            while reader.read(DATA_CHUNK):
                pass
            ins.check_ratio(reader.pos, ins.size)


def _decompressed(ins: Inspector, stack: ExitStack) -> _Stream:
    """The tar's bytes: ``ins.f`` itself, or a decompressing view of it (closed with
    ``stack``) when its first bytes are gzip's, bzip2's or xz's magic."""
    f = ins.f
    f.seek(0)
    magic = f.read(6)
    f.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return stack.enter_context(gzip.GzipFile(fileobj=f, mode="rb"))
    if magic[:3] == b"BZh":
        return stack.enter_context(bz2.BZ2File(f))
    if magic == b"\xfd7zXZ\x00":
        return stack.enter_context(lzma.LZMAFile(f))
    return f


def _budgeted(ins: Inspector, stream: _Stream, compressed: bool) -> BoundedReader:
    """``stream`` read through a budget: the uncompressed limit plus the tar's own overhead,
    and for a compressed tar also the ratio (refused as a bomb when that binds first)."""
    limits = ins.limits
    # Headers, padding and the end-of-archive blocks on top of the members' bytes.
    overhead = (2 * limits.max_members + 2) * tarfile.BLOCKSIZE + tarfile.RECORDSIZE
    size_bound = limits.max_uncompressed_bytes + overhead
    ratio_bound = max(limits.ratio_grace_bytes, limits.max_ratio * ins.size)
    limit = min(size_bound, ratio_bound) if compressed else size_bound

    def over() -> NoReturn:
        if limit < size_bound:
            ins.check_ratio(limit + 1, ins.size)
        ins.too_large()

    def big() -> NoReturn:
        ins.misleading("the archive has a header far larger than any real archive needs")

    return BoundedReader(stream, limit, over, big)


def _check_members(ins: Inspector, archive: tarfile.TarFile) -> None:
    """Every member: the count, the name, the kind, the declared sizes together."""
    count = 0
    declared = 0
    while (member := archive.next()) is not None:
        count += 1
        if count > ins.limits.max_members:
            ins.too_many()
        parts = ins.member_path(member.name)
        _check_kind(ins, member)
        ins.catalogue.add(parts, member.isdir(), member.name)
        declared += member.size
        if declared > ins.limits.max_uncompressed_bytes:
            ins.too_large()


def _check_kind(ins: Inspector, member: tarfile.TarInfo) -> None:
    """Only regular files and folders: no links, devices, FIFOs or sparse files."""
    if member.issym():
        ins.refuse_link(member.name, "a symbolic link")
    if member.islnk():
        ins.refuse_link(member.name, "a hard link")
    if member.issparse() or not (member.isreg() or member.isdir()):
        ins.refuse_link(member.name, "a device, pipe or other special file")


def _check_end(ins: Inspector, reader: BoundedReader, archive: tarfile.TarFile) -> None:
    """tarfile ends quietly at anything that is not a header; only the end-of-archive zero
    blocks (or the plain end of the data) are a proper end."""
    last = reader.last if reader.last_at == archive.offset else b""
    if last.strip(b"\0") or 0 < len(last) < tarfile.BLOCKSIZE:
        ins.damaged()
