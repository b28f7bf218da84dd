"""API tokens. Only a token's SHA-256 digest is stored: the token itself is shown once, when
it is issued, and a copy of the table gives nobody a way in."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """One device's or script's way into the API, sent as ``Authorization: Token <token>``.
    A person may hold several; each expires, and deleting the row revokes it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token, hex")
    prefix = models.CharField(
        max_length=8, help_text="the token's first characters, to tell tokens apart"
    )
    name = models.CharField(max_length=100, blank=True, help_text="the device or script")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "expires_at"], name="apitoken_user_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="apitoken_expires_after_creation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"
