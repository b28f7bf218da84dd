"""Checks a zip without extracting it: the directory's size before zipfile reads it, every
entry's name, kind, method and declared sizes, then every member's local header and actual
data, inflated in bounded chunks and thrown away (see :func:`inspect_zip`)."""

from __future__ import annotations

import stat
import struct
import zipfile
from typing import NamedTuple

from submissions.archives.inflate import INFLATABLE, inflate
from submissions.archives.inspector import DAMAGE, Inspector
from submissions.archives.refusal import quoted

_ZIP_CD_ENTRY_SLACK = 46 + 1024  # fixed central-directory entry + room for extras/comments
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

_ZIP_METHOD_NAMES = {zipfile.ZIP_LZMA: "LZMA", 9: "Deflate64", 93: "Zstandard", 99: "AES"}


def inspect_zip(ins: Inspector) -> None:
    """Checks the zip ``ins`` holds, adding its paths to ``ins.catalogue``; refuses through
    ``ins``. The standard library's exceptions for damage are left to the caller."""
    f = ins.f
    f.seek(0)
    if f.read(4) not in _ZIP_MAGIC:
        ins.not_a_zip()
    _precheck_directory(ins)
    try:
        archive = zipfile.ZipFile(f)
    except (*DAMAGE, UnicodeDecodeError):
        ins.not_a_zip()
    with archive:
        infos = archive.infolist()
        if len(infos) > ins.limits.max_members:
            ins.too_many()
        declared = 0
        for info in infos:
            _check_entry(ins, info)
            declared += info.file_size
            if declared > ins.limits.max_uncompressed_bytes:
                ins.too_large()
            ins.check_ratio(info.file_size, info.compress_size, info.orig_filename)
        ins.check_ratio(declared, ins.size)
        _verify_data(ins, archive, infos)


# ---- the central directory ----------------------------------------------------------------------


def _precheck_directory(ins: Inspector) -> None:
    """Refuses too many entries from the end-of-central-directory record, before zipfile
    reads the whole central directory into memory. Finds the record the way zipfile does;
    anything it cannot make sense of is left to zipfile."""
    counted = _directory_counts(ins)
    if counted is None:
        return
    entries, directory_size = counted
    limits = ins.limits
    per_entry = _ZIP_CD_ENTRY_SLACK + limits.max_depth * (limits.max_name_length + 1)
    if entries > limits.max_members or directory_size > limits.max_members * per_entry:
        ins.too_many()


def _directory_counts(ins: Inspector) -> tuple[int, int] | None:
    """(entries, directory size in bytes) as the end-of-central-directory record (or its
    zip64 version) says; ``None`` when no record is found."""
    f, size = ins.f, ins.size
    if size < 22:
        return None
    tail_len = min(size, 22 + 0xFFFF + 20 + 56)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = len(tail) - 22
    if tail[at : at + 4] != b"PK\x05\x06" or tail[-2:] != b"\0\0":
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
    entries, directory_size = struct.unpack("<HL", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:
        zip64 = tail[at - 76 : at - 20] if at >= 76 else b""
        if tail[at - 20 : at - 16] == b"PK\x06\x07" and zip64[:4] == b"PK\x06\x06":
            entries, directory_size = struct.unpack("<QQ", zip64[32:48])
    return entries, directory_size


def _check_entry(ins: Inspector, info: zipfile.ZipInfo) -> None:
    """One central-directory entry: its name, encryption, kind and method."""
    raw = info.orig_filename
    parts = ins.member_path(raw)
    if info.flag_bits & 0x1:
        ins.encrypted(raw)
    mode = info.external_attr >> 16  # the Unix mode, whatever system made the zip
    if stat.S_ISLNK(mode):
        ins.refuse_link(raw, "a symbolic link")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        ins.refuse_link(raw, "a device, pipe or other special file")
    if info.compress_type not in INFLATABLE:
        method = _ZIP_METHOD_NAMES.get(info.compress_type, f"#{info.compress_type}")
        ins.refuse(
            f"{quoted(raw)} is compressed with a method the portal cannot check "
            f"({method}); make the archive again with standard zip compression.",
            raw,
        )
    ins.catalogue.add(parts, raw.endswith(("/", "\\")), raw)


# ---- the members' data --------------------------------------------------------------------------


class _LocalHeader(NamedTuple):
    flags: int
    method: int
    crc: int
    compress_size: int
    file_size: int
    name_length: int
    extra_length: int


def _verify_data(ins: Inspector, archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    ordered = sorted(infos, key=lambda info: info.header_offset)
    directory_start: int = getattr(archive, "start_dir", ins.size)
    encoding: str = getattr(archive, "metadata_encoding", None) or "cp437"
    for i, info in enumerate(ordered):
        end = ordered[i + 1].header_offset if i + 1 < len(ordered) else directory_start
        _verify_member(ins, info, end, encoding)


def _verify_member(ins: Inspector, info: zipfile.ZipInfo, end: int, encoding: str) -> None:
    """A member's local header agrees with the directory, its data stays before ``end``
    (the next entry) and inflates to exactly what the directory declares."""
    raw = info.orig_filename
    header = _read_local_header(ins, info)
    if header.flags & 0x1:
        ins.encrypted(raw)
    _check_local_name(ins, info, header, encoding)
    start = info.header_offset + 30 + header.name_length + header.extra_length
    if start + info.compress_size > end:
        ins.damaged(raw, "overlaps another entry")
    _check_local_description(ins, info, header)
    ins.f.seek(start)
    inflate(ins, info)


def _read_local_header(ins: Inspector, info: zipfile.ZipInfo) -> _LocalHeader:
    ins.f.seek(info.header_offset)
    header = ins.f.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        ins.damaged(info.orig_filename, "has no local header")
    flags, method, _, _, crc, compress_size, file_size, name_length, extra_length = struct.unpack(
        "<HHHHLLLHH", header[6:30]
    )
    return _LocalHeader(flags, method, crc, compress_size, file_size, name_length, extra_length)


def _check_local_name(
    ins: Inspector, info: zipfile.ZipInfo, header: _LocalHeader, encoding: str
) -> None:
    """The local header names the member as the directory does (the file is read just past
    the fixed header)."""
    raw = info.orig_filename
    try:
        local_name = ins.f.read(header.name_length).decode(
            "utf-8" if info.flag_bits & 0x800 else encoding
        )
    except UnicodeDecodeError:
        ins.damaged(raw, "has an unreadable name")
    if local_name != raw:
        ins.misleading(
            f"the archive lists {quoted(raw)} under two different names ({quoted(local_name)})", raw
        )


def _check_local_description(ins: Inspector, info: zipfile.ZipInfo, header: _LocalHeader) -> None:
    """Tools that read local headers (streaming unzippers) must see what the directory says."""
    described = [(header.method, info.compress_type)]
    if not header.flags & 0x8:  # without a data descriptor the local header carries CRC, sizes
        described.append((header.crc, info.CRC))
        if 0xFFFFFFFF not in (header.compress_size, header.file_size):  # else in zip64 extra
            described += [
                (header.compress_size, info.compress_size),
                (header.file_size, info.file_size),
            ]
    if any(local != central for local, central in described):
        ins.misleading(
            f"the archive describes {quoted(info.orig_filename)} in two different ways",
            info.orig_filename,
        )
