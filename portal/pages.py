"""What every page's write shares: run the service, then tell the person on the next page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest

from portal.errors import ApplicationError, PermissionDeniedError

T = TypeVar("T")


def perform(request: HttpRequest, action: Callable[[], T], success: Callable[[T], str]) -> bool:
    """Runs ``action`` (a service call) and queues a message for the next page: ``success``
    of its result, or the refusal's own message (what the API would say). A permission
    refusal is not a message: it propagates, so the page answers 403 as the API does.
    Returns whether the action was carried out."""
    try:
        result = action()
    except PermissionDeniedError:
        raise
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
        return False
    messages.success(request, success(result))
    return True
