"""Signing in to the API: tokens issued, listed and revoked. The token request goes through
Django's ``authenticate()`` with the request, so django-axes counts its failures and locks
out a username and address that fail too often, as on the login page."""

from __future__ import annotations

from django.contrib.auth import authenticate, logout
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access import selectors, services
from access.lockout import lockout_refusal
from access.models import ApiToken
from portal.errors import ApplicationError, NotFound
from portal.serializers import LocalDateTimeField


class TokenApi(APIView):
    """POST ``{"username", "password"}`` (and ``name``, the device or script, optional) →
    ``{"token", "expiry", "id", "name"}``: a new token every time, valid for
    ``API_TOKEN_TTL_DAYS`` (30 days). Too many failures for one username from one address:
    ``429 throttled`` with ``Retry-After``."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    refusals = {"POST": {400: "invalid_credentials", 429: "throttled"}}

    class Input(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "TokenRequest"

        username = serializers.CharField()
        password = serializers.CharField(trim_whitespace=False)
        name = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=100,
            default="",
            help_text="the device or script the token is for, to tell tokens apart",
        )

    class Output(serializers.Serializer):  # type: ignore[type-arg]
        class Meta:
            ref_name = "Token"

        token = serializers.CharField(
            source="key", help_text="shown once: send it as 'Authorization: Token …'"
        )
        expiry = LocalDateTimeField(source="token.expires_at")
        id = serializers.IntegerField(source="token.pk")
        name = serializers.CharField(source="token.name")

    @extend_schema(request=Input, responses={200: Output})
    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        credentials = {
            "username": data.validated_data["username"],
            "password": data.validated_data["password"],
        }
        user = authenticate(request._request, **credentials)
        if getattr(request._request, "axes_locked_out", False):
            raise lockout_refusal(request._request, {"username": credentials["username"]})
        if user is None or not user.is_active:
            raise ApplicationError(
                "That username and password do not match an active account.",
                code="invalid_credentials",
            )
        # As a login: axes clears the failures of this username and address, Django notes
        # the last login.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        issued = services.api_token_issue(
            user=user, name=data.validated_data["name"], now=timezone.now()
        )
        return Response(self.Output(issued).data)


def _caller(request: Request) -> AbstractBaseUser:
    """The signed-in caller (these views' IsAuthenticated saw to it)."""
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user


class LogoutApi(APIView):
    """POST: revokes the token this request was sent with (a browser session: ends it)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            services.api_token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    """POST: revokes every token the caller holds (and ends this browser session, if the
    request came with one); ``{"revoked"}``, how many tokens there were."""

    @extend_schema(
        request=None,
        responses=inline_serializer("LogoutAll", {"revoked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        revoked = services.api_tokens_revoke_all(user=_caller(request))
        if not isinstance(request.auth, ApiToken):
            logout(request._request)
        return Response({"revoked": revoked})


class TokenOutput(serializers.Serializer):  # type: ignore[type-arg]
    class Meta:
        ref_name = "ApiToken"

    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="the token's first characters")
    created_at = LocalDateTimeField()
    expiry = LocalDateTimeField(source="expires_at")
    last_used_at = LocalDateTimeField(
        allow_null=True, help_text="when it was last used (or issued), to the minute"
    )
    current = serializers.SerializerMethodField(help_text="the token this request came with")

    def get_current(self, token: ApiToken) -> bool:
        return token.pk == self.context.get("current")


class TokenListApi(APIView):
    """GET: the caller's tokens that have not expired, newest first (never the tokens
    themselves: only their first characters)."""

    @extend_schema(responses=TokenOutput(many=True))
    def get(self, request: Request) -> Response:
        tokens = selectors.api_token_list(user=_caller(request), now=timezone.now())
        current = request.auth.pk if isinstance(request.auth, ApiToken) else None
        return Response(TokenOutput(tokens, many=True, context={"current": current}).data)


class TokenDetailApi(APIView):
    """DELETE: revokes one of the caller's tokens (a lost laptop's, an old script's)."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        if not services.api_token_revoke_mine(user=_caller(request), token_id=token_id):
            raise NotFound("You have no token with this id.")
        return Response(status=status.HTTP_204_NO_CONTENT)
