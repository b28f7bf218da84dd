"""Inflates one zip member's raw data independently of zipfile, in bounded chunks, counting
the real output (never more than one byte past the declared size) and its CRC: a header that
under-states the size is caught even when its CRC was forged to match the truncated data
(Python's zipfile would silently truncate; ``unzip`` would not). Stored, deflate and bzip2."""

from __future__ import annotations

import bz2
import zipfile
import zlib
from collections.abc import Callable, Iterator

from submissions.archives.inspector import DATA_CHUNK, Inspector
from submissions.archives.refusal import quoted


class _Output:
    """What one member inflated to so far: its length and CRC, refused one byte past the
    declared size."""

    def __init__(self, ins: Inspector, info: zipfile.ZipInfo) -> None:
        self.ins = ins
        self.raw = info.orig_filename
        self.declared = info.file_size
        self.expected_crc = info.CRC
        self.produced = 0
        self.crc = 0

    def budget(self) -> int:
        """The most output to ask the decompressor for: one chunk, or one byte past the
        declared size."""
        return min(DATA_CHUNK, self.declared - self.produced + 1)

    def take(self, out: bytes) -> None:
        self.produced += len(out)
        if self.produced > self.declared:
            self.ins.refuse(
                f"{quoted(self.raw)} unpacks to more data than the archive declares; the archive "
                "is damaged or was crafted to mislead.",
                self.raw,
            )
        self.crc = zlib.crc32(out, self.crc)

    def check_complete(self) -> None:
        if self.produced != self.declared:
            self.ins.damaged(self.raw, "is shorter than the archive declares")
        if self.crc != self.expected_crc:
            self.ins.damaged(self.raw, "fails its integrity (CRC) check")


def inflate(ins: Inspector, info: zipfile.ZipInfo) -> None:
    """Reads the member's raw data from where ``ins.f`` stands and checks what it inflates
    to against the directory's size and CRC."""
    out = _Output(ins, info)
    if info.file_size or info.compress_size:
        _INFLATERS[info.compress_type](_raw_chunks(ins, info), out)
    out.check_complete()


def _raw_chunks(ins: Inspector, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's ``compress_size`` raw bytes in chunks; refuses a file that ends first."""
    left = info.compress_size
    while left:
        chunk = ins.f.read(min(DATA_CHUNK, left))
        if not chunk:
            ins.damaged(info.orig_filename, "is cut short")
        left -= len(chunk)
        yield chunk


def _copy_stored(chunks: Iterator[bytes], out: _Output) -> None:
    for chunk in chunks:
        out.take(chunk)


def _inflate_deflate(chunks: Iterator[bytes], out: _Output) -> None:
    inflater = zlib.decompressobj(-15)
    for chunk in chunks:
        data = chunk
        while not inflater.eof:
            piece = inflater.decompress(data, out.budget())
            out.take(piece)
            data = inflater.unconsumed_tail
            if not data and not piece:
                break
        if inflater.eof:
            break
    if not inflater.eof:
        out.ins.damaged(out.raw, "is cut short")


def _inflate_bzip2(chunks: Iterator[bytes], out: _Output) -> None:
    unbzip = bz2.BZ2Decompressor()
    for chunk in chunks:
        if unbzip.eof:
            break
        out.take(unbzip.decompress(chunk, out.budget()))
        while not unbzip.eof and not unbzip.needs_input:
            out.take(unbzip.decompress(b"", out.budget()))
    if not unbzip.eof:
        out.ins.damaged(out.raw, "is cut short")


_INFLATERS: dict[int, Callable[[Iterator[bytes], _Output], None]] = {
    zipfile.ZIP_STORED: _copy_stored,
    zipfile.ZIP_DEFLATED: _inflate_deflate,
    zipfile.ZIP_BZIP2: _inflate_bzip2,
}
INFLATABLE = frozenset(_INFLATERS)
"""The zip methods checked here; others (LZMA, Deflate64, …) cannot be with a bounded budget."""
