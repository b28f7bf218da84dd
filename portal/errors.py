"""Application errors and the one place that turns any refusal into the API's error envelope.

Every refusal the API gives is a 4xx with ``{"error": {"code": "<code>", "message": "<sentence>"}}``.
Services raise :class:`ApplicationError` subclasses; pages show the same ``message``.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A refusal a person should understand. ``code`` is what clients branch on, ``status``
    the HTTP status it answers with (400 unless the class or the caller says otherwise):
    ``raise ApplicationError("…", code="group_full", status=409)``."""

    code = "invalid"
    status = 400
    default_message = "The request could not be carried out."
    # HTTP headers the refusal answers with, on the API and on pages alike.
    headers: dict[str, str] = {}

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        **extra: Any,
    ):
        self.message = message or self.default_message
        if code:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra
        super().__init__(self.message)


class NotFound(ApplicationError):
    """What the caller may not see answers 404, never 403."""

    code = "not_found"
    status = 404
    default_message = "Not found."


class NotEnrolled(NotFound):
    code = "not_enrolled"
    default_message = "You are not enrolled in this course, or it does not exist."


class PermissionDeniedError(ApplicationError):
    code = "permission_denied"
    status = 403
    default_message = "You do not have permission to do this."


class ValidationFailed(ApplicationError):
    code = "invalid"
    status = 400


class Throttled(ApplicationError):
    """Too many tries or requests: ``429 throttled`` with ``Retry-After`` (whole seconds)."""

    code = "throttled"
    status = 429

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))
        self.headers = {"Retry-After": str(self.retry_after)}


def wait_phrase(seconds: int) -> str:
    """How long to wait, for a person: "45 seconds", "1 minute", "15 minutes"."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class InvalidInput(ValidationFailed, BadRequest):
    """Input that is not text (a NUL byte, bytes that are not UTF-8), found by
    :mod:`portal.input_check`. A ``BadRequest`` too, so that where it is raised outside a
    view (the CSRF check reads a form before the view runs) Django answers with
    :func:`bad_request`, not a 500."""

    default_message = "The request holds something that is not text."


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _validation_message(detail: Any, prefix: str = "") -> list[str]:
    """Flattens DRF's nested validation detail into sentences naming the field."""
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out += _validation_message(
                value, f"{prefix}{name}" if not prefix else f"{prefix}.{name}"
            )
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out += _validation_message(item, prefix)
        return out
    text = str(detail)
    return [f"{prefix}: {text}" if prefix else text]


_DRF_CODES: list[tuple[type[drf.APIException], str]] = [
    (drf.NotAuthenticated, "not_authenticated"),
    (drf.AuthenticationFailed, "authentication_failed"),
    (drf.PermissionDenied, "permission_denied"),
    (drf.NotFound, "not_found"),
    (drf.MethodNotAllowed, "method_not_allowed"),
    (drf.NotAcceptable, "not_acceptable"),
    (drf.UnsupportedMediaType, "unsupported_media_type"),
    (drf.Throttled, "throttled"),
    (drf.ParseError, "parse_error"),
    (drf.ValidationError, "invalid"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every refusal in the envelope."""
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, exc.message, **exc.extra), status=exc.status, headers=exc.headers
        )
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, drf.APIException):
        return response
    # A subclass may name its own code (access.authentication.TokenExpired: token_expired).
    code = getattr(exc, "portal_code", None) or next(
        (c for cls, c in _DRF_CODES if isinstance(exc, cls)), "error"
    )
    if isinstance(exc, drf.ValidationError):
        message = " ".join(_validation_message(exc.detail)) or "The request is not valid."
        fields = exc.detail if isinstance(exc.detail, dict) else None
        body = error_body(code, message, **({"fields": fields} if fields else {}))
    else:
        detail = exc.detail
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        body = error_body(code, message)
    response.data = body
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a mistyped address answers with the portal's own page (and under /api/,
    in the envelope)."""
    message = "There is nothing at this address. Check it, or start again from your courses."
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", message), status=404)
    return render(
        request,
        "portal/error.html",
        {"code": "not_found", "message": message, "status": 404},
        status=404,
    )


def refusal_response(request: HttpRequest, code: str, message: str, status: int) -> HttpResponse:
    """A refusal answered before (or outside) a view: the envelope under /api/, else the
    error page, rendered without the request (so without the session it would load)."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    page = render_to_string(
        "portal/error.html", {"code": code, "message": message, "status": status}
    )
    return HttpResponse(page, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400 (a ``BadRequest`` or ``SuspiciousOperation`` that reached Django): the
    API answers in its envelope, pages with the portal's page."""
    if isinstance(exception, ApplicationError):
        message = exception.message
    else:
        message = "The request could not be read; check what was sent and try again."
    return refusal_response(request, "invalid", message, 400)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the API answers in its envelope, pages with a page."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", "Something went wrong on our side; please try again."),
            status=500,
        )
    return django_server_error(request)
