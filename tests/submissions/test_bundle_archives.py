"""submissions.archives.check_bundle_archive: an autograder bundle gets the archive checks a
submission gets, with a bundle's limits, plus a bundle's own rules (a zip; run_autograder at
its top level; no backslash in a name). Pure: no database, no Django.
"""

from __future__ import annotations

import io
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from submissions.archives import (
    BUNDLE_LIMITS,
    FILE_TOO_LARGE,
    INVALID_FILE,
    MAX_BUNDLE_BYTES,
    ArchiveLimits,
    ArchiveRefused,
    check_bundle_archive,
)
from submissions.uploads import UploadRefused
from tests.submissions.builders import (
    MB,
    RUN_AUTOGRADER,
    Unseekable,
    make_bundle,
    make_tar,
    make_zip,
    patch_zip,
    zinfo,
)

DEMO = Path(__file__).resolve().parents[2] / "demo" / "autograders"
BUNDLE_MEMBERS = ("run_autograder", "setup.sh", "tests/test_hw.py")


def bundle_refusal(source: bytes | io.IOBase, **kwargs: object) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as caught:
        check_bundle_archive(source, **kwargs)
    return caught.value


def demo_bundle(name: str) -> bytes:
    """A demo autograder folder zipped as grading zips a course's bundle folder: its files
    with their exec bits, without __pycache__."""
    folder = DEMO / name
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return make_zip(
        [
            (
                zinfo(
                    p.relative_to(folder).as_posix(),
                    stat.S_IFREG | (0o755 if os.access(p, os.X_OK) else 0o644),
                ),
                p.read_bytes(),
            )
            for p in paths
        ]
    )


def stored_bundle(run_autograder: bytes = RUN_AUTOGRADER) -> bytes:
    """A bundle as instructors' tools often make it: stored, run_autograder's mode without
    a file type."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        zf.writestr(info, run_autograder)
        zf.writestr("setup.sh", b"pip install numpy\n")
    return buf.getvalue()


# ---- accepted -----------------------------------------------------------------------------------


def test_a_valid_bundle_is_accepted_with_its_members():
    assert check_bundle_archive(make_bundle()) == BUNDLE_MEMBERS


def test_a_stored_bundle_with_a_bare_mode_is_accepted():
    assert check_bundle_archive(stored_bundle()) == ("run_autograder", "setup.sh")


@pytest.mark.parametrize("name", ["ps0", "hw1", "hw2", "hw3", "hw4", "hw5"])
def test_the_demo_autograders_are_accepted(name: str):
    members = check_bundle_archive(demo_bundle(name))
    assert "run_autograder" in members
    assert "setup.sh" in members


def test_a_bundle_with_folder_entries_is_accepted():
    data = make_bundle((zinfo("data/", stat.S_IFDIR | 0o755), b""), ("data/x.csv", b"a,b\n"))
    assert check_bundle_archive(data) == (*BUNDLE_MEMBERS, "data/x.csv")


def test_a_seekable_file_is_read_from_its_start_and_left_there():
    fileobj = io.BytesIO(make_bundle())
    fileobj.seek(10)
    assert check_bundle_archive(fileobj) == BUNDLE_MEMBERS
    assert fileobj.tell() == 0


def test_a_stream_that_cannot_seek_is_accepted_the_same():
    assert check_bundle_archive(Unseekable(make_bundle())) == BUNDLE_MEMBERS


def test_the_bundle_limits():
    assert MAX_BUNDLE_BYTES == 500 * MB
    assert (
        ArchiveLimits(
            max_members=10_000,
            max_uncompressed_bytes=500 * MB,
            max_ratio=100,
            ratio_grace_bytes=1 * MB,
            max_depth=20,
            max_name_length=255,
        )
        == BUNDLE_LIMITS
    )


# ---- refused: what a submission would be refused for --------------------------------------------


@pytest.mark.parametrize(
    ("entry", "mentions"),
    [
        (
            (zinfo("link", stat.S_IFLNK | 0o777), b"/etc/passwd"),
            "the archive contains 'link', a symbolic link; only ordinary files",
        ),
        (("../../etc/cron.d/evil", b"x"), "'../../etc/cron.d/evil', a path that leaves"),
        (("tests/../../evil", b"x"), "'tests/../../evil', a path that leaves"),
        (("/etc/passwd", b"x"), "'/etc/passwd', an absolute path"),
        (("C:/evil.sh", b"x"), "'C:/evil.sh', a path that names a drive"),
        ((zinfo("pipe", stat.S_IFIFO | 0o600), b""), "'pipe', a device, pipe or other special"),
        (("bell\x07.py", b"x"), "control characters"),
    ],
    ids=["symlink", "dotdot", "inner_dotdot", "absolute", "drive", "fifo", "control_character"],
)
def test_an_unsafe_member_is_refused(entry: tuple[zipfile.ZipInfo | str, bytes], mentions: str):
    error = bundle_refusal(make_bundle(entry))
    assert error.code == INVALID_FILE
    assert error.message.startswith("The autograder bundle: "), error.message
    assert mentions in error.message, error.message
    assert error.member is not None


def test_a_name_with_a_backslash_is_refused():
    error = bundle_refusal(make_bundle(("tests\\helper.py", b"x")))
    assert error.code == INVALID_FILE
    assert error.message == (
        "The autograder bundle: the archive contains 'tests\\helper.py', a name with a "
        "backslash (\\); folders inside a bundle are separated by /."
    )
    assert error.member == "tests\\helper.py"


def test_a_backslash_traversal_is_refused_for_its_backslash():
    error = bundle_refusal(make_bundle(("..\\..\\evil.sh", b"x")))
    assert "a name with a backslash" in error.message


def test_a_zip_bomb_is_refused():
    error = bundle_refusal(make_bundle(("zeros.bin", bytes(2 * MB))))
    assert error.code == INVALID_FILE
    assert "'zeros.bin' is compressed more than 100 times over" in error.message


def test_a_bundle_declaring_more_than_500_mb_unpacked_is_refused_as_too_large():
    data = patch_zip(make_bundle(("big.bin", b"x" * 1000)), "big.bin", file_size=600 * MB)
    error = bundle_refusal(data)
    assert error.code == FILE_TOO_LARGE
    assert "the archive unpacks to more than 500 MB" in error.message


def test_a_member_that_inflates_past_its_declared_size_is_refused():
    payload = b"A" * 100 + bytes(range(256)) * 800
    data = patch_zip(make_bundle(("notes.txt", payload)), "notes.txt", file_size=100)
    error = bundle_refusal(data)
    assert "'notes.txt' unpacks to more data than the archive declares" in error.message


def test_more_members_than_the_bundle_limit_are_refused():
    data = make_bundle(*((f"data/f{i}.txt", b"") for i in range(10_000)))
    error = bundle_refusal(data)
    assert error.code == INVALID_FILE
    assert "the archive contains more than 10000 entries" in error.message


def test_the_member_limit_can_be_set():
    error = bundle_refusal(make_bundle(), limits=ArchiveLimits(max_members=2))
    assert "more than 2 entries" in error.message


def test_a_duplicate_member_is_refused():
    error = bundle_refusal(make_bundle(("setup.sh", b"echo again\n")))
    assert "the archive contains 'setup.sh' more than once" in error.message


def test_a_damaged_member_is_refused():
    data = patch_zip(make_bundle(), "setup.sh", crc=0xDEADBEEF)
    error = bundle_refusal(data)
    assert "'setup.sh' fails its integrity (CRC) check" in error.message


def test_an_encrypted_member_is_refused():
    error = bundle_refusal(patch_zip(make_bundle(), "setup.sh", flags_or=0x1))
    assert "'setup.sh' is encrypted" in error.message


def test_an_empty_zip_is_refused():
    error = bundle_refusal(make_zip([]))
    assert error.message == "The autograder bundle: the archive is empty; it contains no files."


# ---- refused: a bundle's own rules --------------------------------------------------------------

NEEDS_RUN_AUTOGRADER = (
    "The bundle needs run_autograder at its top level (Gradescope's layout: setup.sh, "
    "run_autograder and anything else they use)."
)
NOT_A_ZIP = "The autograder bundle is not a valid zip file."


def test_a_bundle_without_run_autograder_is_refused():
    error = bundle_refusal(make_zip([("setup.sh", b"pip install numpy\n")]))
    assert (error.code, error.message) == (INVALID_FILE, NEEDS_RUN_AUTOGRADER)


def test_a_bundle_whose_run_autograder_was_renamed_is_refused():
    renamed = re.sub(rb"run_autograder", b"run_autograded", stored_bundle())
    assert bundle_refusal(renamed).message == NEEDS_RUN_AUTOGRADER


def test_run_autograder_in_a_folder_is_not_at_the_top_level():
    data = make_zip([("hw1/run_autograder", RUN_AUTOGRADER)])
    assert bundle_refusal(data).message == NEEDS_RUN_AUTOGRADER


def test_run_autograder_must_be_named_exactly_so():
    """As before: the zip's own name is what counts, ``./run_autograder`` is not it."""
    data = make_zip([("./run_autograder", RUN_AUTOGRADER)])
    assert bundle_refusal(data).message == NEEDS_RUN_AUTOGRADER


def test_a_folder_called_run_autograder_is_not_the_entry_point():
    data = make_zip([("run_autograder/", b""), ("run_autograder/main.sh", RUN_AUTOGRADER)])
    assert bundle_refusal(data).message == NEEDS_RUN_AUTOGRADER


@pytest.mark.parametrize(
    "data",
    [b"not a zip", b"", make_tar([("run_autograder", b"x")], "gz")],
    ids=["text", "empty", "tar_gz"],
)
def test_what_is_not_a_zip_is_refused(data: bytes):
    error = bundle_refusal(data)
    assert (error.code, error.message) == (INVALID_FILE, NOT_A_ZIP)


def test_a_truncated_zip_is_refused_as_not_a_zip():
    data = make_bundle(("big.bin", os.urandom(4000)))
    assert bundle_refusal(data[: len(data) // 2]).message == NOT_A_ZIP


def test_a_zip_over_the_size_limit_is_refused_before_it_is_read():
    stream = Unseekable()  # endless zeros
    error = bundle_refusal(stream, max_bytes=1000)
    assert stream.read_bytes == 1001
    assert (error.code, error.message) == (
        INVALID_FILE,
        "The autograder bundle is larger than 1000 bytes.",
    )


def test_the_size_limit_names_500_mb_by_default():
    class Huge(io.BytesIO):
        """Says it ends one byte past the limit."""

        def seek(self, offset: int, whence: int = 0) -> int:
            return MAX_BUNDLE_BYTES + 1 if whence == io.SEEK_END else super().seek(offset, whence)

    error = bundle_refusal(Huge(make_bundle()))
    assert error.message == "The autograder bundle is larger than 500 MB."


def test_a_bundle_of_exactly_the_size_limit_is_read():
    data = make_bundle()
    assert check_bundle_archive(data, max_bytes=len(data)) == BUNDLE_MEMBERS


# ---- for the Django side ------------------------------------------------------------------------


def test_a_bundle_refusal_becomes_an_upload_refused_with_the_same_code_and_message():
    error = bundle_refusal(make_bundle(("/etc/passwd", b"x")))
    upload = UploadRefused.from_archive(error)
    assert (upload.code, upload.message, upload.status) == (INVALID_FILE, error.message, 400)
    assert (upload.file_name, upload.member) == ("The autograder bundle", "/etc/passwd")


def test_a_too_large_bundle_refusal_becomes_a_413():
    data = patch_zip(make_bundle(("big.bin", b"x" * 1000)), "big.bin", file_size=600 * MB)
    upload = UploadRefused.from_archive(bundle_refusal(data))
    assert (upload.code, upload.status) == (FILE_TOO_LARGE, 413)


def test_the_archive_checks_import_no_django():
    code = (
        "import sys, submissions.archives; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'rest_framework', 'portal', 'courses', 'grading'} "
        "or m in {'submissions.models', 'submissions.uploads'}); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
