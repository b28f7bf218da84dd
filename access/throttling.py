"""The client's address as the portal reads it: with ``TRUSTED_PROXY_COUNT = 0`` (the default) it is ``REMOTE_ADDR`` and any
``X-Forwarded-For`` is ignored (a client could write anything there). Behind N proxies it is
the N-th address from the right of ``X-Forwarded-For``: each proxy appends the address it
received the request from, so that entry was written by the outermost proxy the portal trusts,
never by the client. Django REST framework's throttles read the header the same way
(``NUM_PROXIES``), and django-axes gets it through ``AXES_CLIENT_IP_CALLABLE``."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


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
