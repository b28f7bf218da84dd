"""What a locked-out login looks like (django-axes' ``AXES_LOCKOUT_CALLABLE``): the API's
``429 throttled`` envelope, or the login page again with how long to wait; both with
``Retry-After``. Axes counts failed logins per username and address (see settings)."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from portal.errors import Throttled, error_body, wait_phrase


def lockout_seconds_left(request: HttpRequest, credentials: dict[str, Any] | None) -> float:
    """Until the lockout lifts: the cool-off counted from the latest failure it still holds
    (failures while locked out are not counted: AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
    is off, so the wait a person is told stays true)."""
    cool_off = get_cool_off(request)
    if cool_off is None:
        return 0
    attempts = AxesDatabaseHandler().get_user_attempts(request, credentials)
    latest = max(
        (a for qs in attempts if (a := qs.aggregate(t=Max("attempt_time"))["t"]) is not None),
        default=None,
    )
    if latest is None:
        return cool_off.total_seconds()
    return (latest + cool_off - timezone.now()).total_seconds()


def lockout_refusal(request: HttpRequest, credentials: dict[str, Any] | None) -> Throttled:
    refusal = Throttled("", retry_after=lockout_seconds_left(request, credentials))
    refusal.message = (
        "Too many failed logins for this username from your address: wait "
        f"{wait_phrase(refusal.retry_after)}, then try again."
    )
    return refusal


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE. The token API already answered with its own refusal."""
    if request.path.startswith("/api/"):
        if original_response is not None and original_response.status_code == 429:
            return original_response
        refusal = lockout_refusal(request, credentials)
        return JsonResponse(
            error_body(refusal.code, refusal.message),
            status=refusal.status,
            headers=refusal.headers,
        )
    refusal = lockout_refusal(request, credentials)
    username = get_client_username(request, credentials) or ""
    response = render(
        request,
        "registration/login.html",
        {
            "form": AuthenticationForm(request, initial={"username": username}),
            "lockout": refusal.message,
            "next": request.POST.get("next", ""),
        },
        status=refusal.status,
    )
    for header, value in refusal.headers.items():
        response[header] = value
    return response
