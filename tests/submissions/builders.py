"""Builders for the upload tests: archives made in memory (nothing touches the disk), the
files and streams the checks read, and uploads as a browser sends them.

zip: :func:`make_zip` (entries are names or ready :class:`zipfile.ZipInfo`, see :func:`zinfo`),
:func:`make_streamed_zip` (data descriptors), :func:`patch_zip` (rewrites header fields where
zipfile would not write the attack itself), :func:`member_data_offset` and :func:`flip` (to
damage a byte). tar: :func:`make_tar`, :func:`tinfo`, :func:`fix_checksum`. Bundles:
:func:`make_bundle`. Reading: :func:`zip_file` (a seekable file), :class:`Unseekable` (a
socket-like stream). Uploads: :func:`uploaded`, :func:`sized_upload`.
"""

from __future__ import annotations

import io
import stat
import struct
import tarfile
import warnings
import zipfile
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

KB = 1024
MB = 1024 * KB


# ---- zip ----------------------------------------------------------------------------------------

Entry = tuple[str | zipfile.ZipInfo, bytes]


def make_zip(entries: Sequence[Entry], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name" is the point, sometimes
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def zinfo(name: str, mode: int = 0, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2021, 1, 25, 9, 0, 0))
    info.compress_type = compression
    if mode:
        info.create_system = 3  # Unix
        info.external_attr = mode << 16
    return info


class _UnseekableWriter(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors (flag bit 3)."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:
        return self.buf.write(b)


def make_streamed_zip(entries: Sequence[tuple[str, bytes]]) -> bytes:
    out = _UnseekableWriter()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            with zf.open(name, "w") as member:
                member.write(data)
    return out.buf.getvalue()


def central_entries(data: bytes) -> list[tuple[int, zipfile.ZipInfo]]:
    """(offset of the central-directory entry, its ZipInfo), in directory order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        pos = zf.start_dir
        infos = zf.infolist()
    out = []
    for info in infos:
        assert data[pos : pos + 4] == b"PK\x01\x02"
        n, m, k = struct.unpack("<HHH", data[pos + 28 : pos + 34])
        out.append((pos, info))
        pos += 46 + n + m + k
    return out


def patch_zip(
    data: bytes,
    member: str,
    *,
    flags_or: int = 0,
    crc: int | None = None,
    compress_size: int | None = None,
    file_size: int | None = None,
    local: bool = True,
    central: bool = True,
) -> bytes:
    """Rewrites fields of one member's local header and/or central-directory entry."""
    out = bytearray(data)
    for pos, info in central_entries(data):
        if info.orig_filename != member:
            continue
        # (flags, crc, compressed size, size) offsets in the local header / central entry
        places = []
        if local:
            places.append((info.header_offset, 6, 14, 18, 22))
        if central:
            places.append((pos, 8, 16, 20, 24))
        for base, f_at, crc_at, csize_at, size_at in places:
            if flags_or:
                (flags,) = struct.unpack_from("<H", out, base + f_at)
                struct.pack_into("<H", out, base + f_at, flags | flags_or)
            if crc is not None:
                struct.pack_into("<L", out, base + crc_at, crc)
            if compress_size is not None:
                struct.pack_into("<L", out, base + csize_at, compress_size)
            if file_size is not None:
                struct.pack_into("<L", out, base + size_at, file_size)
        return bytes(out)
    raise KeyError(member)


def member_data_offset(data: bytes, member: str) -> int:
    for _, info in central_entries(data):
        if info.orig_filename == member:
            n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
            return info.header_offset + 30 + n + m
    raise KeyError(member)


def flip(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0xFF
    return bytes(out)


# ---- tar ----------------------------------------------------------------------------------------


def tinfo(
    name: str, size: int = 0, kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.linkname = link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = 1611583200
    return info


def make_tar(
    entries: Sequence[tarfile.TarInfo | tuple[str, bytes | None]],
    compression: str = "",
    tar_format: int = tarfile.PAX_FORMAT,
) -> bytes:
    """Entries are (name, bytes) for files, (name/, None) for folders, or ready TarInfos."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compression}", format=tar_format) as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry)
                continue
            name, data = entry
            if data is None:
                tf.addfile(tinfo(name, kind=tarfile.DIRTYPE))
            else:
                tf.addfile(tinfo(name, len(data)), io.BytesIO(data))
    return buf.getvalue()


def fix_checksum(block: bytearray, at: int = 0) -> None:
    block[at + 148 : at + 156] = b" " * 8
    checksum = sum(block[at : at + 512])
    block[at + 148 : at + 156] = b"%06o\0 " % checksum


def incompressible(n: int) -> bytes:
    out = bytearray()
    seed = 1
    while len(out) < n:
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        out += seed.to_bytes(8, "little")
    return bytes(out[:n])


# ---- bundles ------------------------------------------------------------------------------------

RUN_AUTOGRADER = b"#!/bin/sh\ncd /autograder/source && python3 run_tests.py\n"


def bundle_entries(*extra: Entry) -> list[Entry]:
    """A bundle in Gradescope's layout (an executable run_autograder, setup.sh, a test),
    followed by ``extra``."""
    return [
        (zinfo("run_autograder", stat.S_IFREG | 0o755), RUN_AUTOGRADER),
        (zinfo("setup.sh", stat.S_IFREG | 0o755), b"#!/bin/sh\npip install numpy\n"),
        ("tests/test_hw.py", b"def test_answer():\n    assert True\n"),
        *extra,
    ]


def make_bundle(*extra: Entry) -> bytes:
    """The zip of :func:`bundle_entries`."""
    return make_zip(bundle_entries(*extra))


# ---- reading ------------------------------------------------------------------------------------


def zip_file(entries: Sequence[Entry]) -> io.BytesIO:
    """A seekable file holding :func:`make_zip` of ``entries``."""
    return io.BytesIO(make_zip(entries))


class Unseekable(io.RawIOBase):
    """Gives ``data`` (or endless zeros) like a socket would: no seek, no tell."""

    def __init__(self, data: bytes | None = None) -> None:
        self.data = data
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = len(buffer)
        start = self.read_bytes
        chunk = bytes(n) if self.data is None else self.data[start : start + n]
        buffer[: len(chunk)] = chunk
        self.read_bytes += len(chunk)
        return len(chunk)


# ---- uploads ------------------------------------------------------------------------------------


def uploaded(name: str, data: bytes) -> SimpleUploadedFile:
    """A file as a browser uploads it."""
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def sized_upload(name: str, size: int, fill: bytes = b"x") -> SimpleUploadedFile:
    """An uploaded file of ``size`` bytes of ``fill`` repeated."""
    return uploaded(name, (fill * size)[:size])
