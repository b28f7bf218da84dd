"""submissions.uploads: names, sizes and hashes, and the corpus of good and bad archives.

Pure: no database, no Django request.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.errors import ApplicationError, exception_handler
from submissions.uploads import (
    FILE_TOO_LARGE,
    INVALID_FILE,
    MB,
    CheckedFile,
    UploadLimits,
    UploadRefused,
    archive_kind,
    check_file,
    check_files,
    normalise_name,
)
from tests.submissions.archives import (
    Case,
    bad_cases,
    corpus,
    good_cases,
    lying_size_zip,
)
from tests.submissions.builders import Unseekable, make_tar, make_zip, zip_file

LIMITS = UploadLimits()


def refusal(
    fileobj: io.IOBase | io.BytesIO, name: str, limits: UploadLimits = LIMITS
) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check_file(fileobj, name, limits)
    return caught.value


# ---- the corpus ---------------------------------------------------------------------------------


def test_the_corpus_covers_zip_and_tar_with_many_distinct_bad_cases():
    bad = bad_cases()
    assert len(bad) >= 20
    assert len({c.id for c in corpus()}) == len(corpus())
    assert sum(c.name.lower().endswith(".zip") for c in bad) >= 10
    assert sum(archive_kind(c.name) == "tar" for c in bad) >= 10
    assert {c.code for c in bad} == {INVALID_FILE, FILE_TOO_LARGE}


@pytest.mark.parametrize("case", bad_cases(), ids=lambda c: c.id)
def test_a_bad_upload_is_refused_with_its_code_and_a_message_naming_file_and_member(case: Case):
    error = refusal(io.BytesIO(case.data), case.name)
    assert error.code == case.code
    assert error.status == (413 if case.code == FILE_TOO_LARGE else 400)
    assert error.message.startswith(case.name), error.message
    assert case.mentions in error.message, error.message
    assert error.file_name == case.name
    assert error.message.endswith(".")


@pytest.mark.parametrize("case", good_cases(), ids=lambda c: c.id)
def test_a_good_upload_is_accepted_with_its_size_hash_and_members(case: Case):
    fileobj = io.BytesIO(case.data)
    fileobj.seek(7 if len(case.data) > 7 else 0)  # wherever it was left, it is read whole
    checked = check_file(fileobj, case.name, LIMITS)
    assert checked == CheckedFile(
        name=case.name,
        size=len(case.data),
        sha256=hashlib.sha256(case.data).hexdigest(),
        is_archive=case.is_archive,
        members=case.members,
    )
    assert fileobj.tell() == 0, "left at the start for storage"


@pytest.mark.parametrize("case", good_cases(), ids=lambda c: c.id)
def test_a_good_upload_that_cannot_seek_is_accepted_the_same(case: Case):
    checked = check_file(Unseekable(case.data), case.name, LIMITS)
    assert (checked.sha256, checked.members) == (
        hashlib.sha256(case.data).hexdigest(),
        case.members,
    )


@pytest.mark.parametrize("case", bad_cases(), ids=lambda c: c.id)
def test_a_bad_upload_that_cannot_seek_is_refused_the_same(case: Case):
    error = refusal(Unseekable(case.data), case.name)
    assert (error.code, case.mentions in error.message) == (case.code, True)


def test_pythons_zipfile_alone_is_fooled_by_the_lying_zip():
    """Why the member data is inflated independently: zipfile stops at the declared size and
    the forged CRC matches, so testzip() and read() see nothing wrong."""
    with zipfile.ZipFile(io.BytesIO(lying_size_zip())) as archive:
        assert archive.testzip() is None
        assert archive.read("notes.txt") == b"A" * 100


# ---- archive limits at their boundaries ---------------------------------------------------------


def test_the_ratio_grace_size_is_inclusive():
    at_grace = zip_file([("z.bin", bytes(1 * MB))])
    assert check_file(at_grace, "z.zip", LIMITS).members == ("z.bin",)


def test_one_byte_past_the_ratio_grace_size_the_ratio_binds():
    past_grace = zip_file([("z.bin", bytes(1 * MB + 1))])
    assert "compressed more than 100 times" in refusal(past_grace, "z.zip").message


def test_with_no_grace_even_ordinary_text_can_be_over_a_small_ratio():
    data = zip_file([("a.txt", b"hello world " * 1000)])
    limits = UploadLimits(archive_max_ratio=2, archive_ratio_grace_bytes=0)
    assert refusal(data, "a.zip", limits).code == INVALID_FILE


TWENTY_LEVELS = "/".join(["d"] * 19 + ["x.py"])


def test_twenty_levels_are_accepted():
    checked = check_file(zip_file([(TWENTY_LEVELS, b"")]), "a.zip", LIMITS)
    assert checked.members == (TWENTY_LEVELS,)


def test_twenty_one_levels_are_refused():
    error = refusal(zip_file([("d/" + TWENTY_LEVELS, b"")]), "a.zip")
    assert "nested 21 levels deep" in error.message


SMALL_ARCHIVES = ["small.zip", "small.tar", "small.tar.gz"]


def four_small_files(name: str) -> io.BytesIO:
    """Four files of 600 bytes (2400 together) in the archive ``name`` says."""
    files = [(f"f{i}.txt", b"x" * 600) for i in range(4)]
    if name.endswith(".zip"):
        return zip_file(files)
    return io.BytesIO(make_tar(files, "gz" if "gz" in name else ""))


@pytest.mark.parametrize("name", SMALL_ARCHIVES)
def test_an_archive_within_the_limits_is_accepted(name: str):
    assert len(check_file(four_small_files(name), name, LIMITS).members) == 4


@pytest.mark.parametrize("name", SMALL_ARCHIVES)
def test_the_member_count_follows_the_limits(name: str):
    error = refusal(four_small_files(name), name, UploadLimits(archive_max_members=3))
    assert "more than 3 entries" in error.message


@pytest.mark.parametrize("name", SMALL_ARCHIVES)
def test_the_uncompressed_size_follows_the_limits(name: str):
    limits = UploadLimits(archive_max_uncompressed_bytes=2 * 1024)
    error = refusal(four_small_files(name), name, limits)
    assert error.code == FILE_TOO_LARGE
    assert error.status == 413
    assert "unpacks to more than 2 KB" in error.message


FIVE_MB_OF_ZEROS_TGZ = make_tar([("zeros.bin", bytes(5 * MB))], "gz")


def test_a_tar_gz_is_stopped_while_decompressing_not_after():
    """The decompressed stream is read through a budget: a 5 MB member in a ~5 KB .tar.gz is
    refused once the budget (max(grace, ratio x compressed size)) is passed."""
    limits = UploadLimits(archive_max_uncompressed_bytes=MB)
    error = refusal(io.BytesIO(FIVE_MB_OF_ZEROS_TGZ), "z.tar.gz", limits)
    assert error.code == FILE_TOO_LARGE


def test_a_tar_gz_within_both_budgets_is_read_whole():
    limits = UploadLimits(archive_max_ratio=10**6)  # the ratio no longer binds: the size does
    checked = check_file(io.BytesIO(FIVE_MB_OF_ZEROS_TGZ), "z.tar.gz", limits)
    assert checked.members == ("zeros.bin",)


# ---- size, hash and reading ---------------------------------------------------------------------


def test_size_and_sha256_match_hashlib_for_a_multi_chunk_file():
    data = os.urandom(3 * MB + 17)
    checked = check_file(io.BytesIO(data), "weights.bin", LIMITS)
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert (checked.is_archive, checked.members) == (False, ())


def test_a_file_of_exactly_the_limit_is_accepted():
    limits = UploadLimits(max_file_bytes=2 * MB + 3)
    assert check_file(io.BytesIO(bytes(2 * MB + 3)), "a.bin", limits).size == 2 * MB + 3


def test_an_endless_stream_stops_one_byte_past_the_limit():
    stream = Unseekable()
    error = refusal(stream, "data.bin", UploadLimits(max_file_bytes=5 * MB))
    assert stream.read_bytes == 5 * MB + 1
    assert error.code == FILE_TOO_LARGE
    assert error.status == 413
    assert error.message == "data.bin is larger than 5 MB, the most one file may be."


def test_an_oversized_archive_is_refused_for_its_size_before_being_opened():
    data = zip_file([("a.bin", os.urandom(200_000))])
    error = refusal(data, "hw1.zip", UploadLimits(max_file_bytes=100_000))
    assert error.code == FILE_TOO_LARGE
    assert error.message.startswith("hw1.zip is larger than 97.6 KB")


def test_the_message_uses_the_normalised_name():
    error = refusal(
        io.BytesIO(b"x" * 20), "../../C:\\evil\\..big.bin", UploadLimits(max_file_bytes=10)
    )
    assert error.message == "big.bin is larger than 10 bytes, the most one file may be."


# ---- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("hw1.py", "hw1.py"),
        ("../../x.py", "x.py"),
        ("C:\\Users\\a\\hw.py", "hw.py"),
        ("C:hw.py", "hw.py"),
        ("/etc/passwd", "passwd"),
        ("\\\\server\\share\\hw.py", "hw.py"),
        ("  my file (final).py  ", "my file (final).py"),
        ("..hidden..", "hidden"),
        (".gitignore", "gitignore"),
        ("hw1.py.", "hw1.py"),
        ("a\x00b\x1f\x7f.py", "ab.py"),
        ("hw1.py\r\n", "hw1.py"),
        ("x\u2028y\u2029.py", "xy.py"),
        ("exe\u202etxt.py", "exetxt.py"),
        ("cafe\u0301.py", "caf\u00e9.py"),
        ("e\x00\u0301.py", "\u00e9.py"),
        ("日本語 レポート.py", "日本語 レポート.py"),
        ("Straße Übung 1.ipynb", "Straße Übung 1.ipynb"),
        ("\u00a0\u3000hw.py\u3000", "hw.py"),
        ("a" * 255, "a" * 255),
    ],
)
def test_normalise_name(sent: str, kept: str):
    assert normalise_name(sent) == kept


@pytest.mark.parametrize(
    "sent",
    ["", "   ", ".", "..", "...", " . . ", "dir/", "C:\\", "\x00\x01\x02", "a" * 256, "é" * 128],
)
def test_normalise_name_refuses_what_is_empty_reserved_or_too_long(sent: str):
    with pytest.raises(UploadRefused) as caught:
        normalise_name(sent)
    assert caught.value.code == INVALID_FILE
    assert caught.value.status == 400
    assert "file name" in caught.value.message


def test_the_name_length_limit_counts_utf8_bytes():
    assert normalise_name("é" * 127 + "a") == "é" * 127 + "a"  # 255 bytes


def test_the_name_length_limit_can_be_set():
    with pytest.raises(UploadRefused, match="at most 10 bytes"):
        normalise_name("abcdefghijk", max_length=10)


def test_check_file_takes_the_name_length_limit_from_its_limits():
    with pytest.raises(UploadRefused):
        check_file(io.BytesIO(b""), "abcdefghijk", UploadLimits(max_name_length=10))


@given(st.text())
def test_a_normalised_name_is_always_safe_and_stable(sent: str):
    try:
        name = normalise_name(sent)
    except UploadRefused:
        return
    assert name
    assert "/" not in name and "\\" not in name
    assert name not in {".", ".."}
    assert name == name.strip() and not name.startswith(".") and not name.endswith(".")
    assert all(unicodedata.category(ch) not in {"Cc", "Cs", "Zl", "Zp"} for ch in name)
    assert unicodedata.is_normalized("NFC", name)
    assert len(name.encode("utf-8")) <= 255
    assert normalise_name(name) == name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.zip", "zip"),
        ("A.ZIP", "zip"),
        ("a.tar", "tar"),
        ("a.tar.gz", "tar"),
        ("a.tgz", "tar"),
        ("a.tar.bz2", "tar"),
        ("a.tar.xz", "tar"),
        ("a.gz", None),
        ("a.docx", None),
        ("a.ipynb", None),
        ("a.zip.py", None),
        ("a.7z", None),
    ],
)
def test_archive_kind_follows_the_name(name: str, kind: str | None):
    assert archive_kind(name) == kind


# ---- a submission's files -----------------------------------------------------------------------


def files(*named: tuple[str, bytes]) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data), name) for name, data in named]


def files_refusal(
    given_files: list[tuple[io.BytesIO, str]], limits: UploadLimits = LIMITS
) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check_files(given_files, limits)
    return caught.value


def test_check_files_returns_every_file_checked_in_order():
    zipped = make_zip([("src/a.py", b"a = 1\n")])
    checked = check_files(files(("hw1.py", b"print(1)\n"), ("../src.zip", zipped)), LIMITS)
    assert [c.name for c in checked] == ["hw1.py", "src.zip"]
    assert checked[1].members == ("src/a.py",)
    assert checked[0].sha256 == hashlib.sha256(b"print(1)\n").hexdigest()


def test_no_files_is_refused():
    error = files_refusal([])
    assert (error.code, error.message) == (INVALID_FILE, "Choose at least one file to submit.")


def test_max_files_are_accepted():
    twenty = files(*((f"f{i}.py", b"") for i in range(20)))
    assert len(check_files(twenty, LIMITS)) == 20


def test_more_than_max_files_is_refused():
    error = files_refusal(files(*((f"f{i}.py", b"") for i in range(21))))
    assert error.code == INVALID_FILE
    assert "You chose 21 files; at most 20" in error.message


def test_two_files_with_the_same_normalised_name_are_refused():
    error = files_refusal(files(("a/hw.py", b"1"), ("b\\hw.py", b"2")))
    assert error.code == INVALID_FILE
    assert error.message == "Two of the files are named 'hw.py'; rename one of them."


TWO_MB_IN_ALL = UploadLimits(max_file_bytes=1 * MB, max_total_bytes=2 * MB)


def test_files_of_exactly_the_total_are_accepted():
    at_total = files(("a.bin", bytes(MB)), ("b.bin", bytes(MB)))
    assert sum(c.size for c in check_files(at_total, TWO_MB_IN_ALL)) == 2 * MB


def test_files_over_the_total_are_refused_as_too_large():
    error = files_refusal(
        files(("a.bin", bytes(MB)), ("b.bin", bytes(MB)), ("c.bin", b"x")), TWO_MB_IN_ALL
    )
    assert (error.code, error.status) == (FILE_TOO_LARGE, 413)
    assert (
        error.message == "Together the files are larger than 2 MB, the most one submission may be."
    )


def test_one_bad_archive_refuses_the_submission_naming_it():
    bad = make_zip([("../../etc/passwd", b"x")])
    error = files_refusal(files(("hw1.py", b"1"), ("hw1.zip", bad)))
    assert error.message.startswith("hw1.zip: the archive contains '../../etc/passwd'")


# ---- the refusal --------------------------------------------------------------------------------


def test_upload_refused_is_an_application_error_answering_400_by_default():
    assert issubclass(UploadRefused, ApplicationError)
    plain = UploadRefused("x.py: no.")
    assert (plain.code, plain.status) == (INVALID_FILE, 400)


def test_upload_refused_for_a_file_too_large_answers_413():
    big = UploadRefused("x.py is too big.", code=FILE_TOO_LARGE)
    assert (big.code, big.status) == (FILE_TOO_LARGE, 413)


def test_the_api_answers_a_refusal_in_the_error_envelope():
    error = refusal(zip_file([("../../etc/passwd", b"x")]), "hw1.zip")
    response = exception_handler(error, {})
    assert response is not None
    assert response.status_code == 400
    assert response.data == {
        "error": {
            "code": "invalid_file",
            "message": "hw1.zip: the archive contains '../../etc/passwd', a path that leaves "
            "the archive's folder.",
        }
    }


def test_the_api_answers_a_file_too_large_with_413():
    too_big = refusal(Unseekable(), "a.bin", UploadLimits(max_file_bytes=10))
    response = exception_handler(too_big, {})
    assert response is not None
    assert response.status_code == 413
    assert response.data["error"]["code"] == "file_too_large"


@pytest.mark.parametrize(
    "bad",
    [
        {"max_files": 0},
        {"max_file_bytes": -1},
        {"archive_max_ratio": True},
        {"max_name_length": 1.5},
    ],
)
def test_limits_must_be_positive_integers(bad: dict[str, object]):
    with pytest.raises(ValueError, match="UploadLimits"):
        UploadLimits(**bad)


def test_the_ratio_grace_size_may_be_zero():
    assert UploadLimits(archive_ratio_grace_bytes=0).archive_ratio_grace_bytes == 0


def test_the_default_limits():
    assert UploadLimits() == UploadLimits(
        max_file_bytes=50 * MB,
        max_total_bytes=200 * MB,
        max_files=20,
        archive_max_members=1000,
        archive_max_uncompressed_bytes=500 * MB,
        archive_max_ratio=100,
        archive_ratio_grace_bytes=1 * MB,
        archive_max_depth=20,
        max_name_length=255,
    )
