"""``Authorization: Token <token>`` against :class:`~access.models.ApiToken`: Django REST
framework's TokenAuthentication (its header parsing and refusals), looking the token up by
its digest and refusing an expired one."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from access import selectors, services
from access.models import ApiToken


class TokenExpired(exceptions.AuthenticationFailed):
    portal_code = "token_expired"
    default_detail = "This token has expired: ask POST /api/v1/auth/token/ for a new one."
    default_code = "token_expired"


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = selectors.api_token_for_key(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.expires_at <= now:
            services.api_token_revoke(token=token)
            raise TokenExpired()
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        services.api_token_touch(token=token, now=now)
        return token.user, token
