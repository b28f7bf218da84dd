"""What every page's write shares: run the service, then tell the person on the next page."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from django.contrib import messages
from django.http import HttpRequest

from portal.errors import ApplicationError, PermissionDeniedError, ValidationFailed

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


def typed_number(typed: str, field: str, *, empty: Decimal | None) -> Decimal | None:
    """A number a person typed in a form field (``empty`` when left blank), or a refusal
    naming the field."""
    typed = typed.strip()
    if not typed:
        return empty
    try:
        return Decimal(typed)
    except InvalidOperation:
        message = f"{field.capitalize()} must be a number, like 8 or 8.5; '{typed}' is not."
        raise ValidationFailed(message, fields={field: [message]}) from None
