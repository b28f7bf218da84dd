"""API tokens: several per person, each expiring, revocable one by one or all at once, stored
as digests; the contract's POST auth/token/ and 'Authorization: Token <token>' unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from access import keys
from access.models import ApiToken
from access.services import api_token_issue
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def issue(client: APIClient, user, **extra) -> dict:
    r = client.post(TOKEN, {"username": user.username, "password": PASSWORD, **extra})
    assert r.status_code == 200, r.content
    return r.json()


def as_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def courses_status(key: str) -> tuple[int, str | None]:
    r = as_token(key).get("/api/v1/courses/")
    return r.status_code, (r.json().get("error", {}).get("code") if r.status_code != 200 else None)


def test_each_request_issues_its_own_token_and_all_of_them_work(api_client):
    user = UserFactory()
    laptop = issue(api_client, user, name="laptop")
    script = issue(api_client, user)
    assert laptop["token"] != script["token"]
    assert laptop["name"] == "laptop" and script["name"] == ""
    assert courses_status(laptop["token"]) == (200, None)
    assert courses_status(script["token"]) == (200, None)
    assert ApiToken.objects.filter(user=user).count() == 2


def test_a_token_expires_after_30_days_by_default(api_client):
    before = timezone.now()
    body = issue(api_client, UserFactory())
    expiry = datetime.fromisoformat(body["expiry"])
    assert before + timedelta(days=30) <= expiry <= timezone.now() + timedelta(days=30)


def test_the_lifetime_is_configurable(api_client, settings):
    settings.API_TOKEN_TTL = timedelta(days=1)
    body = issue(api_client, UserFactory())
    expiry = datetime.fromisoformat(body["expiry"])
    assert expiry - timezone.now() < timedelta(days=1, minutes=1)


def test_only_the_digest_is_stored(api_client):
    body = issue(api_client, UserFactory())
    row = ApiToken.objects.get(pk=body["id"])
    assert row.digest == keys.digest(body["token"]) != body["token"]
    assert row.prefix == body["token"][:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM access_apitoken")
        assert body["token"] not in repr(cursor.fetchall())


def test_an_expired_token_is_refused_with_its_own_code_and_removed(api_client):
    body = issue(api_client, UserFactory())
    ApiToken.objects.filter(pk=body["id"]).update(
        created_at=timezone.now() - timedelta(days=31), expires_at=timezone.now()
    )
    r = as_token(body["token"]).get("/api/v1/courses/")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "token_expired"
    assert "new one" in r.json()["error"]["message"]
    assert not ApiToken.objects.filter(pk=body["id"]).exists()


def test_logout_revokes_the_token_used_and_no_other(api_client):
    user = UserFactory()
    used, other = issue(api_client, user), issue(api_client, user)
    r = as_token(used["token"]).post("/api/v1/auth/logout/")
    assert r.status_code == 204
    assert courses_status(used["token"]) == (401, "authentication_failed")
    assert courses_status(other["token"]) == (200, None)


def test_logout_all_revokes_every_token_of_the_caller_only(api_client):
    user, someone = UserFactory(), UserFactory()
    mine = [issue(api_client, user)["token"] for _ in range(3)]
    theirs = issue(api_client, someone)["token"]
    r = as_token(mine[0]).post("/api/v1/auth/logout-all/")
    assert r.status_code == 200 and r.json() == {"revoked": 3}
    assert [courses_status(k)[0] for k in mine] == [401, 401, 401]
    assert courses_status(theirs) == (200, None)


def test_logout_needs_a_login(api_client):
    r = api_client.post("/api/v1/auth/logout/")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def test_the_api_logout_of_a_browser_session_ends_the_session(client):
    user = UserFactory()
    client.force_login(user)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert SESSION_KEY not in client.session


def test_logging_out_of_the_site_leaves_the_tokens_alone(api_client, client):
    """The site's Log out ends that browser's session; the person's scripts keep their own
    tokens (docs/api.md, "Signing in")."""
    user = UserFactory()
    key = issue(api_client, user)["token"]
    client.force_login(user)
    assert client.post("/accounts/logout/").status_code == 302
    assert courses_status(key) == (200, None)


def test_tokens_are_listed_without_their_secret_and_the_current_one_marked(api_client):
    user = UserFactory()
    laptop = issue(api_client, user, name="laptop")
    script = issue(api_client, user, name="grader script")
    issue(api_client, UserFactory(), name="someone else's")
    r = as_token(laptop["token"]).get("/api/v1/auth/tokens/")
    assert r.status_code == 200
    rows = r.json()
    assert [(t["id"], t["name"], t["current"]) for t in rows] == [
        (script["id"], "grader script", False),
        (laptop["id"], "laptop", True),
    ]
    assert rows[1]["prefix"] == laptop["token"][:8]
    assert rows[1]["expiry"] == laptop["expiry"]
    assert laptop["token"] not in r.content.decode()
    assert set(rows[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "expiry",
        "last_used_at",
        "current",
    }


def test_the_token_list_queries_stay_flat(api_client):
    user = UserFactory()
    key = issue(api_client, user)["token"]
    client = as_token(key)
    counts = []
    for more in (1, 30):
        now = timezone.now()
        for _ in range(more):
            api_token_issue(user=user, now=now)
        with CaptureQueriesContext(connection) as ctx:
            r = client.get("/api/v1/auth/tokens/")
        assert r.status_code == 200
        counts.append((len(r.json()), len(ctx)))
    assert counts[0][0] == 2 and counts[1][0] == 32
    assert counts[0][1] == counts[1][1], counts


def test_one_token_is_revoked_by_its_id_but_not_someone_elses(api_client):
    user, someone = UserFactory(), UserFactory()
    key = issue(api_client, user)["token"]
    lost = issue(api_client, user, name="lost laptop")
    theirs = issue(api_client, someone)
    client = as_token(key)
    assert client.delete(f"/api/v1/auth/tokens/{lost['id']}/").status_code == 204
    assert courses_status(lost["token"]) == (401, "authentication_failed")
    r = client.delete(f"/api/v1/auth/tokens/{theirs['id']}/")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert courses_status(theirs["token"]) == (200, None)


def test_past_the_cap_the_least_recently_used_token_makes_room(api_client, settings):
    settings.API_TOKENS_PER_USER = 3
    user = UserFactory()
    first, second, third = (issue(api_client, user) for _ in range(3))
    hour_ago = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(pk=second["id"]).update(last_used_at=hour_ago)
    fourth = issue(api_client, user)
    assert ApiToken.objects.filter(user=user).count() == 3
    assert courses_status(second["token"])[0] == 401
    for kept in (first, third, fourth):
        assert courses_status(kept["token"]) == (200, None)


def test_issuing_clears_the_persons_expired_tokens(api_client):
    user = UserFactory()
    old = issue(api_client, user)
    ApiToken.objects.filter(pk=old["id"]).update(
        created_at=timezone.now() - timedelta(days=40), expires_at=timezone.now()
    )
    issue(api_client, user)
    assert not ApiToken.objects.filter(pk=old["id"]).exists()


def test_a_deactivated_persons_token_is_refused(api_client):
    user = UserFactory()
    key = issue(api_client, user)["token"]
    user.is_active = False
    user.save()
    assert courses_status(key) == (401, "authentication_failed")


def test_use_is_noted_at_most_once_a_minute(api_client):
    body = issue(api_client, UserFactory())
    long_ago = timezone.now() - timedelta(hours=2)
    ApiToken.objects.filter(pk=body["id"]).update(last_used_at=long_ago)
    client = as_token(body["token"])
    client.get("/api/v1/courses/")
    noted = ApiToken.objects.get(pk=body["id"]).last_used_at
    assert noted > long_ago
    with CaptureQueriesContext(connection) as ctx:
        client.get("/api/v1/courses/")
    assert not [q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert ApiToken.objects.get(pk=body["id"]).last_used_at == noted
