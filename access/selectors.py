"""Reads of API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from access import keys
from access.models import ApiToken


def api_token_for_key(*, key: str) -> ApiToken | None:
    """The token row (with its user) for a token as a client sent it, expired or not."""
    return ApiToken.objects.select_related("user").filter(digest=keys.digest(key)).first()


def api_token_list(*, user: AbstractBaseUser, now: datetime) -> QuerySet[ApiToken]:
    """The caller's own tokens that have not expired, newest first."""
    return ApiToken.objects.filter(user_id=user.pk, expires_at__gt=now).order_by(
        "-created_at", "-pk"
    )
