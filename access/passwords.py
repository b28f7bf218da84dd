"""Choosing a password: "Forgot your password?" and the link a roster invitation sends.

Django's auth views and its default token generator do the work; this module changes three
things. The reset email is sent by a Celery task after the request (``access.tasks``), never in
it, and the page says the same whether or not the address is known. People without a usable
password (a roster import makes them so) may use it: it is how they choose their first one.
An account gets at most ``PASSWORD_RESET_EMAILS_PER_HOUR`` reset emails an hour.
Setting a password revokes the person's API tokens: whoever had the old password, or a
token, is out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm, SetPasswordForm
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import caches
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from access.services import api_tokens_revoke_all
from portal.queueing import publish_on_commit


class PortalPasswordResetForm(PasswordResetForm):
    """Queues one ``access.notify_password_reset`` task per active account with the address
    (usable password or not); an unknown address queues nothing and looks the same."""

    def get_users(self, email: str) -> Iterator[Any]:
        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        return iter(users.order_by("pk"))

    def save(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for user in self.get_users(self.cleaned_data["email"]):
            if reset_email_allowed(user.pk):
                publish_on_commit("access.notify_password_reset", user.pk)


def reset_email_allowed(user_id: int) -> bool:
    """At most ``PASSWORD_RESET_EMAILS_PER_HOUR`` reset emails per account an hour (counted
    from the first), so that whoever knows an address cannot flood its owner. Past it the
    page looks the same (it never says whether an address is known) and nothing is sent."""
    cache = caches["throttle"]
    key = f"password-reset:{user_id}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # it expired between the two calls
        cache.add(key, 1, timeout=3600)
        count = 1
    return count <= settings.PASSWORD_RESET_EMAILS_PER_HOUR


class PortalSetPasswordForm(SetPasswordForm):
    """Sets the password and revokes every API token of the person, in one transaction."""

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                api_tokens_revoke_all(user=user)
        return user


def set_password_link(user: User, viewname: str, *args: str) -> str:
    """The absolute link, under ``PORTAL_BASE_URL``, to a page that lets ``user`` choose a
    password: ``viewname`` takes ``*args`` then the user's id and a fresh token (Django's
    default token generator: it stops working once the password or last login changes, or
    after ``PASSWORD_RESET_TIMEOUT``)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse(viewname, args=[*args, uid, token])


def send_emails(messages: list[EmailMessage]) -> int:
    """Sends the messages over one connection; an SMTP failure raises (the task retries)."""
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def password_reset_send(*, user_id: int) -> int:
    """Emails the person a link to choose a new password, if they are still active and have
    an address. Returns how many were sent (0 or 1)."""
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None or not getattr(user, "email", ""):
        return 0
    context = {
        "to": user,
        "link": set_password_link(user, "password_reset_confirm"),
        "login": settings.PORTAL_BASE_URL.rstrip("/") + reverse("login"),
        "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    body = render_to_string("email/password_reset.txt", context)
    return send_emails([EmailMessage(subject="Choose a new password", body=body, to=[user.email])])
