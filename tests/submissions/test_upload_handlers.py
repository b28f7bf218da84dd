"""submissions/upload_handlers.py: an oversized upload is stopped while it streams in.

Tiny views in this module stand in for the submission page and API; every file goes through a
spying temporary-file handler into a per-test folder, so the tests see how many bytes reached
the disk and that nothing is left there. No database.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.errors import error_body
from submissions.upload_handlers import (
    LimitedUploadHandler,
    install_upload_limits,
    raise_if_refused,
)
from submissions.uploads import FILE_TOO_LARGE, UploadRefused, check_files
from tests.submissions.builders import KB, MB, make_zip, sized_upload, uploaded

FILE_LIMIT = 256 * KB
TOTAL_LIMIT = 512 * KB
CSRF_SECRET = "a" * 16 + "B" * 16  # a 32-character secret: Django takes it as the token too


class Disk:
    """What the spying handler saw: bytes written to temporary files, and their paths."""

    written = 0
    paths: list[Path] = []


class SpyTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        Disk.paths.append(Path(self.file.temporary_file_path()))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        Disk.written += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


def _listing(request: HttpRequest) -> JsonResponse:
    """What the submission service does next: check_files over the uploaded files."""
    uploaded = request.FILES.getlist("files")
    try:
        checked = check_files([(f, f.name or "") for f in uploaded])
    except UploadRefused as refusal:
        return JsonResponse(error_body(refusal.code, refusal.message), status=refusal.status)
    return JsonResponse(
        {
            "files": [
                {"name": c.name, "size": c.size, "sha256": c.sha256, "members": c.members}
                for c in checked
            ],
            "collaborators": request.POST.getlist("collaborators"),
        }
    )


@csrf_exempt
def page_view(request: HttpRequest) -> HttpResponse:
    """The page pattern: limits before anything parses the body, CSRF checked after."""
    install_upload_limits(request, max_file_bytes=FILE_LIMIT, max_total_bytes=TOTAL_LIMIT)
    try:
        raise_if_refused(request)
    except UploadRefused as refusal:
        return JsonResponse(error_body(refusal.code, refusal.message), status=refusal.status)
    return _protected(request)


@csrf_exempt
def roomy_page_view(request: HttpRequest) -> HttpResponse:
    """The same with room for 1 GB in all: only the per-file count can stop a big file."""
    install_upload_limits(request, max_file_bytes=FILE_LIMIT, max_total_bytes=1024 * MB)
    try:
        raise_if_refused(request)
    except UploadRefused as refusal:
        return JsonResponse(error_body(refusal.code, refusal.message), status=refusal.status)
    return _protected(request)


@csrf_protect
def _protected(request: HttpRequest) -> HttpResponse:
    return _listing(request)


class UploadApi(APIView):
    """The API pattern: installed first thing in initial(), the refusal through DRF's handler."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        install_upload_limits(request, max_file_bytes=FILE_LIMIT, max_total_bytes=TOTAL_LIMIT)
        raise_if_refused(request)
        super().initial(request, *args, **kwargs)

    def post(self, request: Request) -> Response:
        files = request.FILES.getlist("files")
        return Response({"files": [{"name": f.name, "size": f.size} for f in files]}, status=201)


urlpatterns = [
    path("upload/", page_view),
    path("upload/roomy/", roomy_page_view),
    path("api/upload/", UploadApi.as_view()),
]


@pytest.fixture(autouse=True)
def upload_dir(tmp_path: Path) -> Iterator[Path]:
    Disk.written = 0
    Disk.paths = []
    with override_settings(
        ROOT_URLCONF=__name__,
        FILE_UPLOAD_HANDLERS=[f"{__name__}.SpyTemporaryFileUploadHandler"],
        FILE_UPLOAD_TEMP_DIR=str(tmp_path),
    ):
        yield tmp_path


def nothing_left_in(folder: Path) -> bool:
    return not list(folder.iterdir()) and not any(p.exists() for p in Disk.paths)


@pytest.mark.parametrize("url", ["/upload/", "/api/upload/"])
def test_files_within_the_limits_arrive_whole(url: str, upload_dir: Path):
    response = Client().post(
        url,
        {
            "files": [sized_upload("hw1.py", 200 * KB, b"abcd"), sized_upload("b.txt", 10)],
            "collaborators": "x",
        },
    )
    assert response.status_code in (200, 201), response.content
    sizes = [(f["name"], f["size"]) for f in response.json()["files"]]
    assert sizes == [("hw1.py", 200 * KB), ("b.txt", 10)]
    assert Disk.written == 200 * KB + 10
    assert nothing_left_in(upload_dir)


def test_uploaded_temporary_files_go_through_check_files(upload_dir: Path):
    zipped = make_zip([("hw1/q1.py", b"x = 1\n"), ("hw1/q2.py", b"y = 2\n")])
    response = Client().post("/upload/", {"files": [uploaded("hw1.zip", zipped)]})
    assert response.status_code == 200, response.content
    assert response.json()["files"] == [
        {
            "name": "hw1.zip",
            "size": len(zipped),
            "sha256": hashlib.sha256(zipped).hexdigest(),
            "members": ["hw1/q1.py", "hw1/q2.py"],
        }
    ]
    assert nothing_left_in(upload_dir)


def test_an_uploaded_bad_archive_is_refused_by_check_files(upload_dir: Path):
    bad = make_zip([("../../etc/passwd", b"x")])
    response = Client().post("/upload/", {"files": [uploaded("hw1.zip", bad)]})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_file"
    assert nothing_left_in(upload_dir)


@pytest.mark.parametrize(
    ("url", "size"),
    [("/upload/", 400 * KB), ("/api/upload/", 400 * KB), ("/upload/roomy/", 20 * MB)],
)
def test_a_file_over_the_limit_is_stopped_before_more_than_the_limit_is_written(
    url: str, size: int, upload_dir: Path
):
    """``/upload/roomy/`` allows 1 GB in all, so only the streaming count can stop 20 MB."""
    response = Client().post(
        url, {"files": [sized_upload("small.py", 100), sized_upload("big.bin", size)]}
    )
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": FILE_TOO_LARGE,
            "message": "big.bin is larger than 256 KB, the most one file may be.",
        }
    }
    assert Disk.written <= 100 + FILE_LIMIT, "no more than the limit reached the disk"
    assert len(Disk.paths) == 2
    assert nothing_left_in(upload_dir), "the temporary files are gone"


@pytest.mark.parametrize("url", ["/upload/", "/api/upload/"])
def test_files_together_over_the_total_are_stopped(url: str, upload_dir: Path):
    files = [sized_upload(f"part{i}.bin", 200 * KB) for i in range(3)]  # each fine, 600 KB together
    response = Client().post(url, {"files": files})
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": FILE_TOO_LARGE,
        "message": "Together the files are larger than 512 KB, the most one submission may be.",
    }
    assert Disk.written <= TOTAL_LIMIT
    assert nothing_left_in(upload_dir)


@pytest.mark.parametrize("url", ["/upload/", "/api/upload/"])
def test_a_content_length_over_the_total_is_refused_before_reading_the_body(
    url: str, upload_dir: Path
):
    """The test client's payload refuses to be read past its real length: had anything read
    the body on the strength of the 3 GB header, the request would fail, not answer 413."""
    response = Client().post(
        url, {"files": [sized_upload("a.py", 10)]}, CONTENT_LENGTH=str(3 * 1024 * MB)
    )
    assert response.status_code == 413
    assert response.json()["error"]["message"] == (
        "Together the files are larger than 512 KB, the most one submission may be."
    )
    assert Disk.written == 0
    assert Disk.paths == []


def ten_byte_handler() -> LimitedUploadHandler:
    request = RequestFactory().post("/upload/", {"files": [sized_upload("a.bin", 1)]})
    return LimitedUploadHandler(request, max_file_bytes=10, max_total_bytes=10)


def test_the_envelope_allowance_keeps_a_full_upload_with_its_fields_acceptable():
    handler = ten_byte_handler()
    assert handler.handle_raw_input(None, {"CONTENT_LENGTH": "0"}, 10 + 1 * MB, "b") is None


def test_a_content_length_one_byte_past_the_envelope_allowance_is_refused():
    handler = ten_byte_handler()
    assert handler.handle_raw_input(None, {"CONTENT_LENGTH": "0"}, 10 + 1 * MB + 1, "b") is not None
    assert handler.refusal is not None


def csrf_client() -> Client:
    """A client whose requests are CSRF-checked, holding the CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def test_with_csrf_enforced_a_request_with_the_token_is_answered(upload_dir: Path):
    ok = csrf_client().post(
        "/upload/", {"files": [sized_upload("a.py", 10)]}, HTTP_X_CSRFTOKEN=CSRF_SECRET
    )
    assert ok.status_code == 200, ok.content
    assert nothing_left_in(upload_dir)


def test_with_csrf_enforced_a_refusal_still_answers_413(upload_dir: Path):
    too_big = csrf_client().post(
        "/upload/", {"files": [sized_upload("big.bin", MB)]}, HTTP_X_CSRFTOKEN=CSRF_SECRET
    )
    assert too_big.status_code == 413
    assert nothing_left_in(upload_dir)


def test_with_csrf_enforced_a_request_without_the_token_is_forbidden(upload_dir: Path):
    forged = csrf_client().post("/upload/", {"files": [sized_upload("a.py", 10)]})
    assert forged.status_code == 403
    assert nothing_left_in(upload_dir)


def filled_handler() -> LimitedUploadHandler:
    """A handler (100 bytes a file, 150 in all) that was given exactly 100 and 50 bytes."""
    handler = LimitedUploadHandler(None, max_file_bytes=100, max_total_bytes=150)
    handler.new_file("files", "a.py", "text/plain", None)
    handler.receive_data_chunk(b"x" * 100, 0)
    handler.new_file("files", "b.py", "text/plain", None)
    handler.receive_data_chunk(b"y" * 50, 0)
    return handler


def test_the_handler_passes_chunks_on_and_counts_them():
    handler = LimitedUploadHandler(None, max_file_bytes=100, max_total_bytes=150)
    handler.new_file("files", "a.py", "text/plain", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 40, 60) == b"x" * 40  # exactly the limit
    assert handler.file_complete(100) is None  # the next handler makes the file
    handler.new_file("files", "b.py", "text/plain", None)
    assert handler.receive_data_chunk(b"y" * 50, 0) == b"y" * 50  # exactly the total
    assert (handler.received, handler.refusal) == (150, None)


def test_the_handler_stops_the_upload_one_byte_past_the_total():
    handler = filled_handler()
    with pytest.raises(StopUpload) as stopped:
        handler.receive_data_chunk(b"y", 50)
    assert stopped.value.connection_reset is False
    assert handler.refusal is not None
    assert handler.refusal.code == FILE_TOO_LARGE
    assert handler.refusal.status == 413
    assert handler.received == 150


def test_a_part_that_declares_its_length_over_the_limit_is_stopped_at_once():
    handler = LimitedUploadHandler(
        None, max_file_bytes=100, max_total_bytes=1000, connection_reset=True
    )
    with pytest.raises(StopUpload) as stopped:
        handler.new_file("files", "../big.bin", "application/octet-stream", 101)
    assert stopped.value.connection_reset is True
    assert handler.refusal is not None
    assert handler.refusal.message == "big.bin is larger than 100 bytes, the most one file may be."


def test_installing_after_the_body_was_parsed_warns_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
):
    request = RequestFactory().post("/upload/", {"files": [sized_upload("big.bin", 2 * KB)]})
    assert request.FILES.getlist("files")[0].size == 2 * KB  # parsed, as a CSRF check would
    with caplog.at_level(logging.WARNING, logger="submissions.upload_handlers"):
        handler = install_upload_limits(request, max_file_bytes=KB, max_total_bytes=KB)
    assert "installed after the upload was parsed" in caplog.text
    assert handler not in request.upload_handlers
    raise_if_refused(request)  # nothing kept: check_files is what refuses it now


def test_raise_if_refused_parses_the_upload_itself():
    request = RequestFactory().post("/upload/", {"files": [sized_upload("big.bin", 2 * KB)]})
    install_upload_limits(request, max_file_bytes=KB, max_total_bytes=10 * KB)
    with pytest.raises(UploadRefused) as caught:
        raise_if_refused(request)
    assert caught.value.code == FILE_TOO_LARGE
    assert "big.bin" in caught.value.message
    assert "files" not in request.FILES


def test_limits_must_be_positive():
    with pytest.raises(ValueError):
        LimitedUploadHandler(None, max_file_bytes=0, max_total_bytes=10)
