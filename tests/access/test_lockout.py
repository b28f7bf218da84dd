"""Failed logins lock a username out from one address (django-axes, in the database): the
token API answers 429 throttled with Retry-After, the login page says how long to wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from access.models import ApiToken
from access.throttling import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
LOGIN = "/accounts/login/"


def ask(username: str, password: str, address: str = "10.0.0.1", **headers):
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def cool_off_passes() -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=16))


def test_the_fifth_failure_locks_the_token_request_out():
    user = UserFactory()
    answers = [ask(user.username, "wrong") for _ in range(5)]
    assert [r.status_code for r in answers] == [400, 400, 400, 400, 429]
    locked = answers[-1]
    assert locked.json()["error"]["code"] == "throttled"
    assert "wait 15 minutes" in locked.json()["error"]["message"]
    assert 890 <= int(locked["Retry-After"]) <= 900


def test_fifteen_wrong_passwords_then_the_right_one_gets_no_token():
    user = UserFactory()
    for _ in range(15):
        ask(user.username, "wrong")
    r = ask(user.username, PASSWORD)
    assert r.status_code == 429 and r.json()["error"]["code"] == "throttled"
    assert int(r["Retry-After"]) > 0
    assert not ApiToken.objects.exists()


def test_tries_while_locked_out_do_not_make_the_wait_longer():
    user = UserFactory()
    for _ in range(5):
        ask(user.username, "wrong")
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=10))
    r = ask(user.username, "wrong")
    assert r.status_code == 429
    assert 290 <= int(r["Retry-After"]) <= 300
    assert "wait 5 minutes" in r.json()["error"]["message"]


def test_after_the_cool_off_the_right_password_works_again():
    user = UserFactory()
    for _ in range(6):
        ask(user.username, "wrong")
    cool_off_passes()
    r = ask(user.username, PASSWORD)
    assert r.status_code == 200 and r.json()["token"]


def test_a_successful_login_resets_the_count():
    user = UserFactory()
    for _ in range(4):
        assert ask(user.username, "wrong").status_code == 400
    assert ask(user.username, PASSWORD).status_code == 200
    for _ in range(4):
        assert ask(user.username, "wrong").status_code == 400


def test_the_lock_is_per_username_and_address():
    """Nobody can lock a student out from elsewhere, and one person's typos do not lock out
    the others behind the same address."""
    user, neighbour = UserFactory(), UserFactory()
    for _ in range(5):
        ask(user.username, "wrong", address="10.0.0.1")
    assert ask(user.username, PASSWORD, address="10.0.0.1").status_code == 429
    assert ask(user.username, PASSWORD, address="10.0.0.2").status_code == 200
    assert ask(neighbour.username, PASSWORD, address="10.0.0.1").status_code == 200


def test_unknown_usernames_are_locked_out_the_same_way():
    """So the lockout tells nobody which usernames exist."""
    answers = [ask("nobody-here", "wrong").status_code for _ in range(5)]
    assert answers == [400, 400, 400, 400, 429]


def login(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_login_page_says_how_long_to_wait_with_429():
    user = UserFactory()
    client = Client()
    for _ in range(4):
        r = login(client, user.username, "wrong")
        assert r.status_code == 200
    r = login(client, user.username, "wrong")
    assert r.status_code == 429
    assert 890 <= int(r["Retry-After"]) <= 900
    page = r.content.decode()
    assert "Too many failed logins" in page and "wait 15 minutes" in page
    assert 'role="alert"' in page and 'name="username"' in page and "Log in" in page


def test_fifteen_wrong_passwords_then_the_right_one_do_not_log_in_on_the_page():
    user = UserFactory()
    client = Client()
    for _ in range(15):
        login(client, user.username, "wrong")
    r = login(client, user.username, PASSWORD)
    assert r.status_code == 429
    assert SESSION_KEY not in client.session
    assert client.get("/").status_code == 302  # still sent to the login page


def test_the_page_and_the_api_share_the_count():
    user = UserFactory()
    client = Client()
    for _ in range(3):
        login(client, user.username, "wrong")
    assert ask(user.username, "wrong").status_code == 400
    assert ask(user.username, "wrong").status_code == 429
    assert login(client, user.username, PASSWORD).status_code == 429


def test_the_page_logs_in_again_after_the_cool_off():
    user = UserFactory()
    client = Client()
    for _ in range(5):
        login(client, user.username, "wrong")
    cool_off_passes()
    r = login(client, user.username, PASSWORD)
    assert r.status_code == 302 and client.session[SESSION_KEY] == str(user.pk)


# The client's address behind proxies


def test_without_trusted_proxies_a_forwarded_address_is_ignored():
    """A client that writes X-Forwarded-For itself gains no fresh address to guess from."""
    user = UserFactory()
    for i in range(5):
        ask(user.username, "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert ask(user.username, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_behind_a_proxy_the_address_it_saw_counts(settings):
    """Behind one proxy every request comes from the proxy's address: the client is the
    address the proxy appended, never what the client wrote before it."""
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    proxy = "10.9.9.9"
    for i in range(5):
        ask(
            user.username,
            "wrong",
            address=proxy,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 198.51.100.1",
        )
    locked = ask(user.username, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert locked.status_code == 429
    spoofed = ask(
        user.username, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1"
    )
    assert spoofed.status_code == 429
    other = ask(user.username, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.1.1.1", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, "not an address", "10.0.0.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_the_admin_login_is_locked_out_too():
    user = UserFactory(is_staff=True)
    client = Client()
    for _ in range(5):
        client.post(
            "/admin/login/",
            {"username": user.username, "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
        )
    r = client.post(
        "/admin/login/", {"username": user.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1"
    )
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert SESSION_KEY not in client.session
