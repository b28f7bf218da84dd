"""Production settings refuse to start without a SECRET_KEY, or with DEBUG on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    base["DJANGO_SETTINGS_MODULE"] = "portal.settings.production"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_without_secret_key():
    r = start(DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal")
    assert r.returncode != 0 and "SECRET_KEY must be set" in r.stderr


def test_production_refuses_debug_on():
    r = start(SECRET_KEY="x" * 50, DEBUG="true", DATABASE_URL="postgres://postgres@127.0.0.1/p")
    assert r.returncode != 0 and "DEBUG must be off" in r.stderr


def test_production_refuses_without_a_database_url():
    r = start(SECRET_KEY="x" * 50)
    assert r.returncode != 0 and "DATABASE_URL must be set" in r.stderr


def test_production_starts_when_configured():
    r = start(SECRET_KEY="x" * 50, DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal")
    assert r.returncode == 0, r.stderr
    assert "started" in r.stdout


def test_local_settings_default_to_sqlite_and_in_process_tasks():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings.local"
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert r.stdout.split() == ["django.db.backends.sqlite3", "True"], r.stderr
    env.update(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert r.stdout.split() == ["django.db.backends.postgresql", "False"], r.stderr


def test_production_shares_rendered_files_through_redis():
    """With REDIS_URL, every web process reads the same highlighted files (a real Redis
    round trip, on a database the tests own and a key prefix of their own)."""
    code = (
        "import django; django.setup(); from django.core.cache import caches; "
        "c = caches['rendered_files']; c.set('settings-test', 'shared', 30); "
        "print(type(c).__name__, c.get('settings-test')); c.delete('settings-test')"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal",
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert r.stdout.split() == ["RedisCache", "shared"], r.stderr
