"""Request throttles, counted in the ``throttle`` cache (Redis when ``REDIS_URL`` is set, so
every web process shares the counts), and the client's address as the portal reads it.

The address: with ``TRUSTED_PROXY_COUNT = 0`` (the default) it is ``REMOTE_ADDR`` and any
``X-Forwarded-For`` is ignored (a client could write anything there). Behind N proxies it is
the N-th address from the right of ``X-Forwarded-For``: each proxy appends the address it
received the request from, so that entry was written by the outermost proxy the portal trusts,
never by the client. Django REST framework's throttles read the header the same way
(``NUM_PROXIES``), and django-axes gets it through ``AXES_CLIENT_IP_CALLABLE``."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

from portal.errors import Throttled, wait_phrase


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if not hops:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-min(proxies, len(hops))]))
    except ValueError:
        return remote


class UploadRateThrottle(UserRateThrottle):
    """Hand-ins per person (scope ``uploads``, ``THROTTLE_UPLOADS``, default 20 a minute): the
    API's and the page's together. Per person, never global, so a class handing in at the
    deadline is never slowed by its own size; only one person's burst is."""

    scope = "uploads"

    @property  # type: ignore[override]
    def cache(self) -> BaseCache:  # type: ignore[override]
        return caches["throttle"]

    def get_rate(self) -> str | None:
        # Read when used, not when the class was made, so a settings change takes effect.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or ""


_PERIODS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


def upload_refusal(throttle: UploadRateThrottle, wait: float | None) -> Throttled:
    refusal = Throttled("", retry_after=wait or 1)
    allowed, period = throttle.parse_rate(throttle.get_rate())
    refusal.message = (
        f"You have handed in work more than {allowed} times in the last "
        f"{_PERIODS.get(period or 0, f'{period} seconds')}: wait "
        f"{wait_phrase(refusal.retry_after)}, then try again. Nothing was stored from this upload."
    )
    return refusal


def upload_throttle(request: HttpRequest) -> Throttled | None:
    """For pages: counts this hand-in against the person's rate, or the refusal if it is over."""
    throttle = UploadRateThrottle()
    if throttle.allow_request(request, None):  # type: ignore[arg-type]
        return None
    return upload_refusal(throttle, throttle.wait())
