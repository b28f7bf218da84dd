"""A corpus of good and bad uploads, built in memory (nothing touches the disk) with the
builders of :mod:`tests.submissions.builders`.

Every :class:`Case` is a file name and its bytes. A bad case names the refusal code it must
get and a piece of text the message must contain (the member, quoted as the message shows
it); a good case names the members the check must report. ``corpus()`` builds them once.

Zip bytes are patched where zipfile would not write the attack itself (lying sizes, forged
CRCs, the encryption flag, overlapping entries, a local name that differs from the central
directory's); tar headers are patched with their checksum recomputed.
"""

from __future__ import annotations

import gzip
import io
import stat
import struct
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from functools import cache

from tests.submissions.builders import (
    KB,
    MB,
    central_entries,
    fix_checksum,
    flip,
    incompressible,
    make_streamed_zip,
    make_tar,
    make_zip,
    member_data_offset,
    patch_zip,
    tinfo,
    zinfo,
)

INVALID = "invalid_file"
TOO_LARGE = "file_too_large"


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    data: bytes
    code: str | None = None  # None: accepted
    mentions: str = ""  # besides the file name, the refusal's message contains this
    members: tuple[str, ...] = ()  # an accepted archive's members
    is_archive: bool = False

    def __repr__(self) -> str:  # pytest ids and failure output stay short
        return f"Case({self.id!r}, {self.name!r}, {len(self.data)} bytes, code={self.code!r})"


# ---- the attacks zipfile and tarfile would not write --------------------------------------------


def lying_size_zip() -> bytes:
    """A member whose headers say 100 bytes (with the CRC of those 100 bytes) while its
    deflate stream holds 200 KB: Python's zipfile reads 100 bytes and is satisfied."""
    payload = b"A" * 100 + bytes(range(256)) * 800
    data = make_zip([("notes.txt", payload)])
    return patch_zip(data, "notes.txt", file_size=100, crc=zlib.crc32(payload[:100]))


def eocd_count_zip() -> bytes:
    """One real entry; the end-of-central-directory record claims 60,000."""
    out = bytearray(make_zip([("a.py", b"print(1)\n")]))
    at = len(out) - 22
    assert out[at : at + 4] == b"PK\x05\x06"
    struct.pack_into("<HH", out, at + 8, 60000, 60000)
    return bytes(out)


def nul_name_zip() -> bytes:
    """zipfile cuts names at NUL when writing, so the NUL is patched into both headers."""
    data = make_zip([("evil.pyX.txt", b"x")])
    assert data.count(b"evil.pyX.txt") == 2
    return data.replace(b"evil.pyX.txt", b"evil.py\x00.txt")


def local_name_mismatch_zip() -> bytes:
    data = make_zip([("a.py", b"print('a')\n"), ("c.py", b"print('c')\n")])
    (_, info), _ = central_entries(data)
    out = bytearray(data)
    out[info.header_offset + 30 : info.header_offset + 34] = b"b.py"
    return bytes(out)


def local_method_zip() -> bytes:
    """The directory says deflate; the local header says stored."""
    data = make_zip([("q1.py", b"z = 1\n" * 40)])
    out = bytearray(data)
    (_, info), *_ = central_entries(data)
    struct.pack_into("<H", out, info.header_offset + 8, zipfile.ZIP_STORED)
    return bytes(out)


def overlapping_zip() -> bytes:
    data = make_zip([("a.py", b"print('a')\n" * 50), ("b.py", b"print('b')\n")])
    (_, info), _ = central_entries(data)
    return patch_zip(data, "a.py", compress_size=info.compress_size + 40, local=False)


def declared_too_big_tar() -> bytes:
    out = bytearray(make_tar([("big.bin", b"x" * 10)], tar_format=tarfile.USTAR_FORMAT))
    out[124:136] = b"%011o\0" % (600 * MB)
    fix_checksum(out)
    return bytes(out)


def junk_header_tar() -> bytes:
    out = bytearray(
        make_tar(
            [("a.py", b"print(1)\n"), ("b.py", b"print(2)\n")], tar_format=tarfile.USTAR_FORMAT
        )
    )
    out[1024:1536] = b"\xff" * 512  # where b.py's header was
    return bytes(out)


# ---- the corpus ---------------------------------------------------------------------------------


def _good() -> list[Case]:
    nested = [
        (zinfo("hw1/", stat.S_IFDIR | 0o755), b""),
        (zinfo("hw1/q1.py", stat.S_IFREG | 0o644), b"def f():\n    return 1\n"),
        (zinfo("hw1/data/", stat.S_IFDIR | 0o755), b""),
        (zinfo("hw1/data/x.csv"), b"a,b\n1,2\n" * 100),
    ]
    tree = [
        ("./", None),
        ("./src/", None),
        ("./src/a.py", b"print('a')\n"),
        ("./README.md", b"# HW1\n"),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zinfo("stored.py", compression=zipfile.ZIP_STORED), b"x = 1\n")
        zf.writestr(zinfo("deflated.py", compression=zipfile.ZIP_DEFLATED), b"y = 2\n" * 100)
        zf.writestr(zinfo("bzipped.txt", compression=zipfile.ZIP_BZIP2), b"z = 3\n" * 100)
        zf.writestr(zinfo("empty.txt", compression=zipfile.ZIP_DEFLATED), b"")
    mixed = buf.getvalue()
    return [
        Case("plain_py", "hw1.py", b"print('hello')\n"),
        Case("empty_py", "__init__.py", b""),
        Case("notebook", "analysis.ipynb", b'{"cells": [], "nbformat": 4}'),
        Case("zip_named_txt", "notes.txt", make_zip([("../../evil", b"x")])),
        Case("docx_is_opaque", "report.docx", make_zip([("word/document.xml", b"<w/>")])),
        Case(
            "nested_zip",
            "hw1.zip",
            make_zip(nested),
            members=("hw1/q1.py", "hw1/data/x.csv"),
            is_archive=True,
        ),
        Case(
            "mixed_methods_zip",
            "mixed.zip",
            mixed,
            members=("stored.py", "deflated.py", "bzipped.txt", "empty.txt"),
            is_archive=True,
        ),
        Case(
            "data_descriptors_zip",
            "streamed.zip",
            make_streamed_zip([("a.py", b"a = 1\n" * 1000), ("b/c.py", b"c = 2\n")]),
            members=("a.py", "b/c.py"),
            is_archive=True,
        ),
        Case(
            "nfd_name_zip",
            "unicode.zip",
            make_zip([("cafe\u0301/re\u0301sume\u0301.py", b"# \xc3\xa9\n")]),
            members=("caf\u00e9/r\u00e9sum\u00e9.py",),
            is_archive=True,
        ),
        Case(
            "spaces_zip",
            "My Work.zip",
            make_zip([("my folder/my file.py", b"pass\n")]),
            members=("my folder/my file.py",),
            is_archive=True,
        ),
        Case(
            "repetitive_under_grace_zip",
            "zeros.zip",
            make_zip([("zeros.bin", bytes(512 * KB))]),
            members=("zeros.bin",),
            is_archive=True,
        ),
        Case(
            "thousand_members_zip",
            "many.zip",
            make_zip([(f"f{i:04}.txt", b"%d\n" % i) for i in range(1000)]),
            members=tuple(f"f{i:04}.txt" for i in range(1000)),
            is_archive=True,
        ),
        Case(
            "tar_gz",
            "hw1.tar.gz",
            make_tar(tree, "gz"),
            members=("src/a.py", "README.md"),
            is_archive=True,
        ),
        Case(
            "plain_tar",
            "hw1.tar",
            make_tar(tree),
            members=("src/a.py", "README.md"),
            is_archive=True,
        ),
        Case(
            "tgz_upper_case",
            "HW1.TGZ",
            make_tar(tree, "gz"),
            members=("src/a.py", "README.md"),
            is_archive=True,
        ),
        Case(
            "tar_bz2",
            "hw1.tar.bz2",
            make_tar(tree, "bz2"),
            members=("src/a.py", "README.md"),
            is_archive=True,
        ),
        Case(
            "tar_xz",
            "hw1.tar.xz",
            make_tar(tree, "xz"),
            members=("src/a.py", "README.md"),
            is_archive=True,
        ),
        Case(
            "gnu_tar_long_name",
            "long.tar",
            make_tar([("d/" + "n" * 150 + ".py", b"pass\n")], tar_format=tarfile.GNU_FORMAT),
            members=("d/" + "n" * 150 + ".py",),
            is_archive=True,
        ),
        Case(
            "gzip_tar_named_tar",
            "hw1.tar",
            make_tar(tree, "gz"),
            members=("src/a.py", "README.md"),
            is_archive=True,
        ),
    ]


def _bad_zip() -> list[Case]:
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("q1.py", b"def answer():\n    return 42\n")
    stored_zip = stored.getvalue()
    lzma_zip = make_zip([("q1.py", b"x = 1\n" * 50)], zipfile.ZIP_LZMA)
    deep = "/".join(["d"] * 20 + ["x.py"])
    return [
        Case("zip_traversal", "hw1.zip", make_zip([("../../etc/passwd", b"x")]), INVALID,
             "'../../etc/passwd', a path that leaves"),
        Case("zip_inner_traversal", "hw1.zip", make_zip([("src/../../x.py", b"x")]), INVALID,
             "'src/../../x.py'"),
        Case("zip_absolute", "hw1.zip", make_zip([("/etc/passwd", b"x")]), INVALID,
             "'/etc/passwd', an absolute path"),
        Case("zip_drive", "hw1.zip", make_zip([("C:\\Windows\\evil.py", b"x")]), INVALID,
             "'C:\\Windows\\evil.py', a path that names a drive"),
        Case("zip_drive_slash", "hw1.zip", make_zip([("c:/evil.py", b"x")]), INVALID,
             "names a drive"),
        Case("zip_unc", "hw1.zip", make_zip([("\\\\server\\share\\x.py", b"x")]), INVALID,
             "an absolute path"),
        Case("zip_backslash_traversal", "hw1.zip", make_zip([("..\\..\\evil.py", b"x")]),
             INVALID, "'..\\..\\evil.py', a path that leaves"),
        Case("zip_symlink", "hw1.zip",
             make_zip([(zinfo("link", stat.S_IFLNK | 0o777), b"/etc/passwd")]), INVALID,
             "'link', a symbolic link"),
        Case("zip_char_device", "hw1.zip",
             make_zip([(zinfo("tty", stat.S_IFCHR | 0o600), b"")]), INVALID,
             "'tty', a device, pipe or other special file"),
        Case("zip_fifo", "hw1.zip", make_zip([(zinfo("pipe", stat.S_IFIFO | 0o600), b"")]),
             INVALID, "'pipe', a device"),
        Case("zip_too_many_members", "many.zip",
             make_zip([(f"f{i}.txt", b"") for i in range(1001)]), INVALID,
             "more than 1000 entries"),
        Case("zip_eocd_claims_many", "hw1.zip", eocd_count_zip(), INVALID,
             "more than 1000 entries"),
        Case("zip_declared_bomb", "bomb.zip",
             patch_zip(make_zip([("big.bin", b"x" * 1000)]), "big.bin", file_size=600 * MB,
                       local=False),
             TOO_LARGE, "unpacks to more than 500 MB"),
        Case("zip_lying_size", "hw1.zip", lying_size_zip(), INVALID,
             "'notes.txt' unpacks to more data than the archive declares"),
        Case("zip_ratio_member", "bomb.zip", make_zip([("zeros.bin", bytes(2 * MB))]), INVALID,
             "'zeros.bin' is compressed more than 100 times"),
        Case("zip_ratio_overall", "bomb.zip",
             make_zip([(f"z{i}.bin", bytes(100 * KB)) for i in range(30)]), INVALID,
             "the archive is compressed more than 100 times"),
        Case("zip_encrypted", "hw1.zip",
             patch_zip(make_zip([("q1.py", b"secret\n")]), "q1.py", flags_or=0x1), INVALID,
             "'q1.py' is encrypted"),
        Case("zip_truncated", "hw1.zip", make_zip([("a.py", incompressible(4000))])[:2500],
             INVALID, "is not a valid zip archive"),
        Case("zip_crc_stored", "hw1.zip",
             flip(stored_zip, member_data_offset(stored_zip, "q1.py") + 5), INVALID,
             "'q1.py' fails its integrity (CRC) check"),
        Case("zip_crc_deflate", "hw1.zip",
             patch_zip(make_zip([("q1.py", b"y = 2\n" * 40)]), "q1.py", crc=0xDEADBEEF),
             INVALID, "'q1.py' fails its integrity (CRC) check"),
        Case("zip_not_a_zip", "hw1.zip", b"def f():\n    pass\n", INVALID,
             "is not a valid zip archive"),
        Case("zip_empty_file", "hw1.zip", b"", INVALID, "is not a valid zip archive"),
        Case("zip_holding_tar_gz", "hw1.zip", make_tar([("a.py", b"x")], "gz"), INVALID,
             "is not a valid zip archive"),
        Case("zip_duplicate", "hw1.zip", make_zip([("a.py", b"1"), ("a.py", b"2")]), INVALID,
             "'a.py' more than once"),
        Case("zip_duplicate_nfc", "hw1.zip",
             make_zip([("caf\u00e9.py", b"1"), ("cafe\u0301.py", b"2")]), INVALID,
             "'caf\u00e9.py' more than once"),
        Case("zip_duplicate_dot", "hw1.zip", make_zip([("a.py", b"1"), ("./a.py", b"2")]),
             INVALID, "'a.py' more than once"),
        Case("zip_duplicate_backslash", "hw1.zip",
             make_zip([("src/a.py", b"1"), ("src\\a.py", b"2")]), INVALID,
             "'src/a.py' more than once"),
        Case("zip_file_and_folder", "hw1.zip", make_zip([("a", b"1"), ("a/b.py", b"2")]),
             INVALID, "'a' both as a file and as a folder"),
        Case("zip_nul_name", "hw1.zip", nul_name_zip(), INVALID,
             "'evil.py\\x00.txt'"),
        Case("zip_escape_name", "hw1.zip", make_zip([("a\x1b[2Jb.py", b"x")]), INVALID,
             "control characters"),
        Case("zip_bidi_name", "hw1.zip", make_zip([("exe\u202etxt.py", b"x")]), INVALID,
             "'exe\\u202etxt.py'"),
        Case("zip_too_deep", "hw1.zip", make_zip([(deep, b"x")]), INVALID,
             "is nested 21 levels deep"),
        Case("zip_long_name", "hw1.zip", make_zip([("x" * 300 + ".py", b"x")]), INVALID,
             "a name longer than 255 bytes"),
        Case("zip_lzma", "hw1.zip", lzma_zip, INVALID, "'q1.py' is compressed with a method"),
        Case("zip_local_name_mismatch", "hw1.zip", local_name_mismatch_zip(), INVALID,
             "under two different names"),
        Case("zip_overlapping", "hw1.zip", overlapping_zip(), INVALID,
             "'a.py' overlaps another entry"),
        Case("zip_local_size_differs", "hw1.zip",
             patch_zip(make_zip([("q1.py", b"z = 1\n" * 40)]), "q1.py", file_size=10**6,
                       central=False),
             INVALID, "describes 'q1.py' in two different ways"),
        Case("zip_local_method_differs", "hw1.zip", local_method_zip(), INVALID,
             "describes 'q1.py' in two different ways"),
        Case("zip_empty", "hw1.zip", make_zip([]), INVALID, "the archive is empty"),
        Case("zip_only_folders", "hw1.zip", make_zip([("a/", b""), ("a/b/", b"")]), INVALID,
             "the archive is empty"),
    ]  # fmt: skip


def _bad_tar() -> list[Case]:
    return [
        Case("tar_traversal", "hw1.tar", make_tar([("../evil.py", b"x")]), INVALID,
             "'../evil.py', a path that leaves"),
        Case("tar_absolute", "hw1.tar.gz", make_tar([("/etc/cron.d/evil", b"x")], "gz"),
             INVALID, "'/etc/cron.d/evil', an absolute path"),
        Case("tar_drive", "hw1.tar", make_tar([("C:\\evil.py", b"x")]), INVALID,
             "names a drive"),
        Case("tar_symlink", "hw1.tar.gz",
             make_tar([tinfo("link", kind=tarfile.SYMTYPE, link="/etc/passwd")], "gz"),
             INVALID, "'link', a symbolic link"),
        Case("tar_hardlink", "hw1.tar",
             make_tar([tinfo("hard", kind=tarfile.LNKTYPE, link="../../etc/passwd")]),
             INVALID, "'hard', a hard link"),
        Case("tar_char_device", "hw1.tar", make_tar([tinfo("null", kind=tarfile.CHRTYPE)]),
             INVALID, "'null', a device"),
        Case("tar_block_device", "hw1.tar", make_tar([tinfo("sda", kind=tarfile.BLKTYPE)]),
             INVALID, "'sda', a device"),
        Case("tar_fifo", "hw1.tgz", make_tar([tinfo("pipe", kind=tarfile.FIFOTYPE)], "gz"),
             INVALID, "'pipe', a device"),
        Case("tar_too_many_members", "many.tar.gz",
             make_tar([(f"f{i}.txt", b"") for i in range(1001)], "gz"), INVALID,
             "more than 1000 entries"),
        Case("tar_declared_too_big", "big.tar", declared_too_big_tar(), TOO_LARGE,
             "unpacks to more than 500 MB"),
        Case("tar_gz_ratio", "bomb.tar.gz", make_tar([("zeros.bin", bytes(5 * MB))], "gz"),
             INVALID, "the archive is compressed more than 100 times"),
        Case("tar_bz2_ratio", "bomb.tar.bz2", make_tar([("zeros.bin", bytes(5 * MB))], "bz2"),
             INVALID, "the archive is compressed more than 100 times"),
        Case("tar_gz_truncated", "hw1.tar.gz",
             make_tar([("a.bin", incompressible(40 * KB))], "gz")[: 20 * KB], INVALID,
             "damaged or incomplete"),
        Case("tar_gz_crc", "hw1.tar.gz",
             flip(make_tar([("a.py", b"print(1)\n")], "gz"), -8), INVALID,
             "damaged or incomplete"),
        Case("tar_truncated", "hw1.tar",
             make_tar([("a.bin", incompressible(10 * KB)), ("b.py", b"x")])[: 6 * KB],
             INVALID, "damaged or incomplete"),
        Case("tar_junk_header", "hw1.tar", junk_header_tar(), INVALID,
             "damaged or incomplete"),
        Case("tar_not_a_tar", "hw1.tar", b"just some text, not a tar\n" * 40, INVALID,
             "is not a valid tar archive"),
        Case("tar_gz_not_a_tar", "hw1.tar.gz", gzip.compress(b"hello " * 200), INVALID,
             "is not a valid tar archive"),
        Case("tar_bz2_garbage", "hw1.tar.bz2", b"BZh9" + incompressible(600), INVALID,
             "damaged or incomplete"),
        Case("tar_duplicate", "hw1.tar", make_tar([("a.py", b"1"), ("./a.py", b"2")]),
             INVALID, "'a.py' more than once"),
        Case("tar_too_deep", "hw1.tar", make_tar([("/".join(["d"] * 25), b"x")]), INVALID,
             "is nested 25 levels deep"),
        Case("tar_control_name", "hw1.tar", make_tar([("bell\x07.py", b"x")]), INVALID,
             "'bell\\x07.py'"),
        Case("tar_gnu_longname_bomb", "hw1.tar.gz",
             make_tar([("a" * (4 * MB), b"x")], "gz", tarfile.GNU_FORMAT), INVALID,
             "a header far larger than any real archive needs"),
        Case("tar_pax_bomb", "hw1.tar.gz",
             make_tar([("p" * (3 * MB), b"x")], "gz", tarfile.PAX_FORMAT), INVALID,
             "a header far larger than any real archive needs"),
        Case("tar_empty", "hw1.tar", make_tar([]), INVALID, "the archive is empty"),
        Case("tar_only_folders", "hw1.tgz", make_tar([("a/", None)], "gz"), INVALID,
             "the archive is empty"),
    ]  # fmt: skip


@cache
def corpus() -> tuple[Case, ...]:
    cases = (*_good(), *_bad_zip(), *_bad_tar())
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return cases


def good_cases() -> list[Case]:
    return [c for c in corpus() if c.code is None]


def bad_cases() -> list[Case]:
    return [c for c in corpus() if c.code is not None]
