"""Writes of API tokens: issue, revoke, and the bookkeeping authentication does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models.functions import Coalesce

from access import keys
from access.models import ApiToken

# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once: only its digest is stored


def api_token_issue(*, user: AbstractBaseUser, name: str = "", now: datetime) -> IssuedToken:
    """A new token for ``user``, valid for ``API_TOKEN_TTL``. The person's expired tokens go,
    and past ``API_TOKENS_PER_USER`` the least recently used ones make room (a script that asks
    for a token on every run would otherwise pile them up)."""
    key = keys.new_key()
    with transaction.atomic():
        mine = ApiToken.objects.filter(user_id=user.pk)
        mine.filter(expires_at__lte=now).delete()
        keep = settings.API_TOKENS_PER_USER - 1
        stale = (
            mine.annotate(used=Coalesce("last_used_at", "created_at"))
            .order_by("-used", "-pk")
            .values_list("pk", flat=True)[keep:]
        )
        ApiToken.objects.filter(pk__in=list(stale)).delete()
        token = ApiToken.objects.create(
            user_id=user.pk,
            digest=keys.digest(key),
            prefix=keys.prefix(key),
            name=name,
            created_at=now,
            expires_at=now + settings.API_TOKEN_TTL,
            # Issuing counts as using: the first requests write nothing.
            last_used_at=now,
        )
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()


def api_token_revoke_mine(*, user: AbstractBaseUser, token_id: int) -> bool:
    """Revokes one of the caller's own tokens; whether there was one (someone else's is not
    the caller's: False, as for a missing one). This module imports no portal.errors: DRF
    loads access.authentication, which uses it, while portal.errors is loading DRF."""
    deleted, _ = ApiToken.objects.filter(user_id=user.pk, pk=token_id).delete()
    return bool(deleted)


def api_tokens_revoke_all(*, user: AbstractBaseUser) -> int:
    """Revokes every token the person holds; how many there were."""
    deleted, _ = ApiToken.objects.filter(user_id=user.pk).delete()
    return deleted


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Notes that the token was used, at most once a ``TOUCH_EVERY``."""
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
