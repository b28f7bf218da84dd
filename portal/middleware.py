"""Request middleware: the receipt clock, the gate for input that is not text, and pages that
show the API's refusals."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.errors import ApplicationError, refusal_response
from portal.input_check import install_multipart_check, request_problem


class ReceivedAtMiddleware:
    """Stamps ``request.received_at`` when the request arrives, before its body is read: the
    server's clock at receipt decides whether work is on time, so a slow upload that started
    before the deadline is not made late by its own transfer time."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.received_at = timezone.now()  # type: ignore[attr-defined]
        return self.get_response(request)


class InputCheckMiddleware:
    """Refuses a request holding a NUL byte or bytes that are not UTF-8 (path, query string,
    headers, a urlencoded or JSON body) with ``400 invalid`` before anything reads it, and
    has a multipart body checked as it is parsed (see :mod:`portal.input_check`). It comes
    before the session, CSRF and authentication middleware, so none of them sees such a
    cookie or header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            problem = request_problem(request)
        except RequestDataTooBig:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
            problem = (
                f"The request body is larger than {limit / 1024 / 1024:.1f} MB, the most a "
                "form or JSON body may be."
            )
        if problem:
            return refusal_response(request, "invalid", problem, 400)
        install_multipart_check(request)
        return self.get_response(request)


class ApplicationErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError):
            return None
        response = render(
            request,
            "portal/error.html",
            {"code": exception.code, "message": exception.message, "status": exception.status},
            status=exception.status,
        )
        for header, value in exception.headers.items():
            response[header] = value
        return response
