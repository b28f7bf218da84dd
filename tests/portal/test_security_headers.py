"""Every response carries the site's Content-Security-Policy (CONTRACT.md, Access and
hardening), in every settings module; production also redirects to HTTPS and sends HSTS, and
passes ``check --deploy``. The browser side (the pages work under the policy, no violation
is reported) is tests/browser/test_csp_browser.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from access.services import api_token_issue

ROOT = Path(__file__).resolve().parents[2]

# The policy, directive by directive, as the browser reads it.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'self'"],
}


def directives(header: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} twice in {header!r}"
        parsed[name] = sources
    return parsed


def policy_of(response: Any) -> dict[str, list[str]]:
    assert "Content-Security-Policy" in response, (response.status_code, response.items())
    return directives(response["Content-Security-Policy"])


@pytest.mark.django_db
def test_pages_the_api_and_refusals_carry_the_policy(client: Any, student: Any) -> None:
    """Test settings: anonymous pages, a signed-in page, the API (an answer, a refusal, the
    schema and its docs), the portal's 404 page, a refusal page and the admin."""
    anonymous = {
        "/accounts/login/": 200,
        "/": 302,
        "/api/v1/courses/": 401,
        "/api/v1/nowhere/": 404,
        "/admin/login/": 200,
        "/favicon.ico": 301,
    }
    for path, status in anonymous.items():
        r = client.get(path)
        assert r.status_code == status, path
        assert policy_of(r) == POLICY, path
    token = api_token_issue(user=student.user, now=timezone.now())
    r = client.get("/api/v1/courses/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert r.status_code == 200 and r.json()[0]["slug"] == student.course.slug
    # A request the input check refuses (a NUL byte) carries the policy too.
    r = client.get("/api/v1/courses/", {"x": "a\x00b"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert r.status_code == 400 and policy_of(r) == POLICY
    r = client.get("/api/v1/courses/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert r.status_code == 200 and r.json()[0]["slug"] == student.course.slug
    assert policy_of(r) == POLICY
    client.force_login(student.user)
    signed_in = {
        "/": 200,
        f"/courses/{student.course.slug}/": 200,
        f"/courses/{student.course.slug}/assignmnets/": 404,
        "/courses/no-such-course/": 404,
        "/api/schema/": 200,
        "/api/docs/": 200,
        "/api/docs/?script=": 200,
    }
    for path, status in signed_in.items():
        r = client.get(path)
        assert r.status_code == status, path
        assert policy_of(r) == POLICY, path


@pytest.mark.django_db
def test_the_api_docs_have_no_inline_script_or_style(client: Any, student: Any) -> None:
    """Swagger UI's start-up script is a file of its own and its styles a stylesheet, so the
    policy lets the page run (the browser test opens it)."""
    client.force_login(student.user)
    page = client.get("/api/docs/").content.decode()
    assert "<style" not in page
    assert '<script src="/api/docs/?script="></script>' in page
    assert "portal/swagger_ui.css" in page
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_no_template_has_an_inline_script_handler_or_style() -> None:
    """What the policy would block, kept out of the pages at the source: an inline <script>,
    an on*= handler, a style attribute or element, a javascript: link."""

    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)[^>]*>",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            r"<style",
            r"javascript:",
        ):
            found += [
                f"{template.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)
            ]
    assert found == []


def serve(settings: str, env: dict[str, str], script: str) -> Any:
    """Runs ``script`` (which prints JSON) under ``settings`` in a fresh interpreter."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL", "STATIC_ROOT"}
        and not k.startswith("SECURE_")
    }
    r = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + script],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": settings, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


# Fetches paths with the test client (no database is touched) and prints, for each, the status
# and the headers that matter here.
FETCH = """
import json, sys
from django.test import Client
client = Client(HTTP_HOST="localhost")
seen = {}
for path, secure in [("/accounts/login/", True), ("/api/v1/courses/", True), ("/accounts/login/", False)]:
    r = client.get(path, secure=secure)
    seen[("https " if secure else "http ") + path] = {
        "status": r.status_code,
        "csp": r.get("Content-Security-Policy"),
        "hsts": r.get("Strict-Transport-Security"),
        "location": r.get("Location"),
    }
print(json.dumps(seen))
"""


def test_local_settings_serve_the_policy() -> None:
    """The demo's settings (DEBUG on, SQLite): the same policy on a page and on the API."""
    seen = serve("portal.settings.local", {}, FETCH)
    for key in ("https /accounts/login/", "https /api/v1/courses/", "http /accounts/login/"):
        assert directives(seen[key]["csp"]) == POLICY, key
        assert seen[key]["hsts"] is None
    assert seen["http /accounts/login/"]["status"] == 200  # no HTTPS redirect in the demo


def test_production_serves_the_policy_redirects_to_https_and_sends_hsts(tmp_path: Path) -> None:
    """Production settings as deployed (collectstatic first, as the Dockerfile does; this also
    checks that the manifest storage accepts every static file): the policy on a page and on
    the API, plain HTTP redirected to HTTPS, HSTS on HTTPS responses; and HSTS's parts are
    settings."""
    env = {
        "SECRET_KEY": "production-settings-test-" + "k" * 40,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DEBUG"},
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stderr[-3000:]
    seen = serve("portal.settings.production", env, FETCH)
    for key in ("https /accounts/login/", "https /api/v1/courses/"):
        assert seen[key]["status"] in (200, 401), key
        assert directives(seen[key]["csp"]) == POLICY, key
        assert seen[key]["hsts"] == "max-age=31536000; includeSubDomains; preload", key
    assert seen["http /accounts/login/"]["status"] == 301
    assert seen["http /accounts/login/"]["location"] == "https://localhost/accounts/login/"
    tuned = {
        **env,
        "SECURE_HSTS_SECONDS": "600",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "false",
        "SECURE_HSTS_PRELOAD": "false",
        "SECURE_SSL_REDIRECT": "false",
    }
    seen = serve("portal.settings.production", tuned, FETCH)
    assert seen["https /accounts/login/"]["hsts"] == "max-age=600"
    assert seen["http /accounts/login/"]["status"] == 200
    assert directives(seen["http /accounts/login/"]["csp"]) == POLICY


def test_check_deploy_is_clean_with_the_production_settings() -> None:
    """``manage.py check --deploy`` finds nothing to warn about with the production settings
    and only the variables that production requires (test values)."""
    # Not DJANGO_ALLOW_ASYNC_UNSAFE either: the browser tests set it in this process (for
    # Playwright's sync API beside the live server), and check --deploy rightly refuses it.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env = {k: v for k, v in env.items() if not k.startswith(("SECURE_", "SESSION_", "CSRF_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="deploy-check-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
    )
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "System check identified no issues (0 silenced)." in r.stdout, r.stdout + r.stderr
