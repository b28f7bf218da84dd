"""Request middleware: the receipt clock, and pages that show the API's refusals."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.errors import ApplicationError


class ReceivedAtMiddleware:
    """Stamps ``request.received_at`` when the request arrives, before its body is read: the
    server's clock at receipt decides whether work is on time, so a slow upload that started
    before the deadline is not made late by its own transfer time."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.received_at = timezone.now()  # type: ignore[attr-defined]
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
