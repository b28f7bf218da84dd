"""/accounts/password_reset/: the email goes through a Celery task to a real SMTP server
(aiosmtpd), the page never says whether an address is known, the link lets the person choose
a password once, people without a usable password may use it, and setting a password revokes
the person's API tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from access.models import ApiToken
from access.services import api_token_issue
from tests.factories import PASSWORD, UserFactory
from tests.grading.test_notifications import BASE, Inbox, body, smtp

__all__ = ["smtp"]

pytestmark = pytest.mark.django_db

RESET = "/accounts/password_reset/"
NEW = "a-New-passw0rd-for-2021"


def ask(client: Client, email: str, capture: Any) -> Any:
    with capture(execute=True):
        return client.post(RESET, {"email": email}, follow=True)


def link_in(text: str) -> str:
    found = re.search(rf"{re.escape(BASE)}(/accounts/reset/\S+/)", text)
    assert found, text
    return found.group(1)


def choose(client: Client, path: str, password: str = NEW) -> Any:
    page = client.get(path, follow=True)
    assert page.status_code == 200
    assert page.context["validlink"], page.content
    form_path = page.redirect_chain[-1][0]
    return client.post(form_path, {"new_password1": password, "new_password2": password})


def test_the_login_page_links_forgot_your_password(client: Client) -> None:
    page = client.get("/accounts/login/")
    assert f'<a href="{RESET}">Forgot your password?</a>' in page.content.decode()


def test_a_known_address_gets_a_link_that_sets_the_password_once(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(username="gburdell", email="George.Burdell@example.edu")
    page = ask(client, "george.burdell@example.edu", django_capture_on_commit_callbacks)
    assert page.redirect_chain[-1][0] == "/accounts/password_reset/done/"
    (email,) = smtp.to("George.Burdell@example.edu")
    assert email["Subject"] == "Choose a new password"
    text = body(email)
    assert "gburdell" in text
    path = link_in(text)
    done = choose(client, path)
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password(NEW)
    again = client.get(path, follow=True)
    assert not again.context["validlink"]
    assert "This link no longer works" in again.content.decode()


def test_an_unknown_address_looks_the_same_and_sends_nothing(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(email="known@example.edu")
    known = ask(client, "known@example.edu", django_capture_on_commit_callbacks)
    unknown = ask(client, "nobody@example.edu", django_capture_on_commit_callbacks)
    assert smtp.recipients() == ["known@example.edu"]
    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content
    assert b"If the address belongs to an account" in unknown.content


def test_the_request_queues_a_task_and_sends_no_email_itself(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(email="known@example.edu")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(RESET, {"email": "known@example.edu"})
    assert smtp.messages == []
    assert len(callbacks) == 1


def test_someone_without_a_usable_password_chooses_their_first_one(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(username="rostered", email="rostered@example.edu")
    user.set_unusable_password()
    user.save()
    ask(client, "rostered@example.edu", django_capture_on_commit_callbacks)
    (email,) = smtp.to("rostered@example.edu")
    choose(client, link_in(body(email)))
    user.refresh_from_db()
    assert user.has_usable_password() and user.check_password(NEW)
    logged_in = client.post("/accounts/login/", {"username": "rostered", "password": NEW})
    assert logged_in.status_code == 302


def test_an_inactive_account_gets_no_email(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(email="gone@example.edu", is_active=False)
    ask(client, "gone@example.edu", django_capture_on_commit_callbacks)
    assert smtp.messages == []


def test_setting_a_password_revokes_the_persons_api_tokens_and_only_theirs(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(email="me@example.edu")
    other = UserFactory(email="other@example.edu")
    now = timezone.now()
    api_token_issue(user=user, name="laptop", now=now)
    api_token_issue(user=user, name="ci", now=now)
    kept = api_token_issue(user=other, now=now)
    ask(client, "me@example.edu", django_capture_on_commit_callbacks)
    (email,) = smtp.to("me@example.edu")
    choose(client, link_in(body(email)))
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.token.pk]


def test_a_refused_password_changes_nothing_and_keeps_the_tokens(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(email="me@example.edu")
    api_token_issue(user=user, now=timezone.now())
    ask(client, "me@example.edu", django_capture_on_commit_callbacks)
    (email,) = smtp.to("me@example.edu")
    page = choose(client, link_in(body(email)), password="123")
    assert page.status_code == 200
    assert b"field-error" in page.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert ApiToken.objects.filter(user=user).count() == 1


def test_an_account_gets_at_most_three_reset_emails_an_hour(
    client: Client, smtp: Inbox, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """Whoever knows an address cannot flood its owner: the fourth and fifth requests within
    the hour look the same and send nothing; another account is counted apart."""
    assert settings.PASSWORD_RESET_EMAILS_PER_HOUR == 3
    UserFactory(email="flooded@example.edu")
    UserFactory(email="other@example.edu")
    pages = [
        ask(client, "flooded@example.edu", django_capture_on_commit_callbacks) for _ in range(5)
    ]
    assert len(smtp.to("flooded@example.edu")) == 3
    assert len({p.content for p in pages}) == 1
    ask(client, "other@example.edu", django_capture_on_commit_callbacks)
    assert len(smtp.to("other@example.edu")) == 1
