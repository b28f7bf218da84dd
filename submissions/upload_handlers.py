"""Stops an oversized upload while it streams in, before Django writes it to disk.

:class:`LimitedUploadHandler` goes first in ``request.upload_handlers``. It counts each file's
bytes and the request's file bytes as the multipart parser hands them over, passing every chunk
on to the next handler (memory or temporary file) until a limit is passed; then it keeps the
refusal and raises Django's ``StopUpload(connection_reset=False)``. A Content-Length that is
already over the total limit (plus ``envelope_bytes`` for boundaries and form fields) is
refused before a byte of the body is read.

Why not raise :class:`~submissions.uploads.UploadRefused` inside ``receive_data_chunk``:
Django's ``MultiPartParser`` handles only ``StopUpload`` and ``SkipFile``. Anything else leaves
``parse()`` with the half-written temporary file still open (only completed files are closed),
``request.FILES`` unset, and DRF wrapping it however its parser does. On ``StopUpload`` the
parser closes every handler's file (a ``TemporaryUploadedFile`` deletes itself on close),
drains the rest of the body without storing it (``connection_reset=False``: the client then
gets the 413 response instead of a reset connection) and returns what it had.
:func:`raise_if_refused` turns the kept refusal into the exception the view raises.

Installing it: handlers can only change before the body is parsed, and Django's CSRF check
reads ``request.POST`` (so parses the body) before a view runs. As Django's documentation on
modifying upload handlers on the fly says, exempt the outer view and protect the inner one::

    @csrf_exempt
    def submit(request):
        install_upload_limits(request, max_file_bytes=..., max_total_bytes=...)
        raise_if_refused(request)  # parses the body; 413 before the CSRF check can 403
        return _submit(request)

    @csrf_protect
    def _submit(request): ...

In a DRF ``APIView`` (session authentication runs the CSRF check, which parses the body,
inside ``initial()``), install it first thing in ``initial()``::

    def initial(self, request, *args, **kwargs):
        install_upload_limits(request, max_file_bytes=..., max_total_bytes=...)
        raise_if_refused(request)
        super().initial(request, *args, **kwargs)

This handler only counts bytes; the files it lets through still go to
:func:`submissions.uploads.check_files` for names, hashes and archives.
"""

from __future__ import annotations

import logging
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework.request import Empty, Request

from submissions.uploads import (
    MB,
    UploadRefused,
    file_too_large_error,
    normalise_name,
    submission_too_large_error,
)

__all__ = ["LimitedUploadHandler", "install_upload_limits", "raise_if_refused"]

log = logging.getLogger(__name__)

ENVELOPE_BYTES = 1 * MB
"""Room in a request's Content-Length for multipart boundaries, part headers and form fields
(collaborators, the CSRF token) on top of the files themselves."""


def _django_request(request: HttpRequest | Request | None) -> HttpRequest | None:
    return request._request if isinstance(request, Request) else request


class LimitedUploadHandler(FileUploadHandler):
    """Counts upload bytes as they arrive and stops the upload at the first one too many.

    ``refusal`` is ``None`` or the :class:`UploadRefused` (``file_too_large``) to raise.
    ``received`` is how many file bytes it passed on to the handlers after it.
    """

    def __init__(
        self,
        request: HttpRequest | Request | None = None,
        *,
        max_file_bytes: int,
        max_total_bytes: int,
        envelope_bytes: int = ENVELOPE_BYTES,
        connection_reset: bool = False,
    ) -> None:
        super().__init__(_django_request(request))
        if max_file_bytes < 1 or max_total_bytes < 1 or envelope_bytes < 0:
            raise ValueError("LimitedUploadHandler needs positive limits.")
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.envelope_bytes = envelope_bytes
        self.connection_reset = connection_reset
        self.refusal: UploadRefused | None = None
        self.received = 0
        self._file_received = 0

    def _stop(self, refusal: UploadRefused) -> StopUpload:
        self.refusal = refusal
        return StopUpload(connection_reset=self.connection_reset)

    def _shown_name(self) -> str:
        try:
            return normalise_name(self.file_name or "")
        except UploadRefused:
            return self.file_name or "The file"

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[Any]]] | None:
        if content_length > self.max_total_bytes + self.envelope_bytes:
            self.refusal = submission_too_large_error(self.max_total_bytes)
            # Answering here ends the parse: the body is never read.
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(
            field_name, file_name, content_type, content_length, charset, content_type_extra
        )
        self._file_received = 0
        if content_length is not None and content_length > self.max_file_bytes:
            raise self._stop(file_too_large_error(self._shown_name(), self.max_file_bytes))

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self._file_received += len(raw_data)
        if self._file_received > self.max_file_bytes:
            raise self._stop(file_too_large_error(self._shown_name(), self.max_file_bytes))
        if self.received + len(raw_data) > self.max_total_bytes:
            raise self._stop(submission_too_large_error(self.max_total_bytes))
        self.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile[Any] | None:
        return None  # the next handler makes the file


def install_upload_limits(
    request: HttpRequest | Request,
    *,
    max_file_bytes: int,
    max_total_bytes: int,
    envelope_bytes: int = ENVELOPE_BYTES,
    connection_reset: bool = False,
) -> LimitedUploadHandler:
    """Puts a :class:`LimitedUploadHandler` first on ``request`` and returns it.

    When the body was already parsed (something read ``request.POST``, ``request.FILES`` or
    ``request.data`` first, as a CSRF check does), the handler can no longer see the upload:
    this logs a warning and returns it unused. Nothing oversized gets through even then,
    since :func:`submissions.uploads.check_files` refuses it; it was only stored first.
    """
    django_request = _django_request(request)
    assert django_request is not None
    parsed = hasattr(django_request, "_files") or (
        isinstance(request, Request) and getattr(request, "_full_data", Empty) is not Empty
    )
    if parsed:
        log.warning(
            "Upload limits installed after the upload was parsed (%s %s); install them "
            "before anything reads request.POST, request.FILES or request.data.",
            django_request.method,
            django_request.path,
        )
    handler = LimitedUploadHandler(
        django_request,
        max_file_bytes=max_file_bytes,
        max_total_bytes=max_total_bytes,
        envelope_bytes=envelope_bytes,
        connection_reset=connection_reset,
    )
    if not parsed:
        django_request.upload_handlers.insert(0, handler)
    return handler


def raise_if_refused(request: HttpRequest | Request) -> None:
    """Parses the upload if nothing has yet, then raises the refusal a
    :class:`LimitedUploadHandler` kept, if any (``UploadRefused``, ``file_too_large``, 413).

    Does nothing more when no such handler is on ``request``.
    """
    request.FILES  # noqa: B018  (reading it runs the parser and so the handlers)
    django_request = _django_request(request)
    assert django_request is not None
    for handler in django_request.upload_handlers:
        if isinstance(handler, LimitedUploadHandler) and handler.refusal is not None:
            raise handler.refusal
