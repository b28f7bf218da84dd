"""Tokens issued before the access app (DRF's authtoken table, plain text) keep working after
the migration, and their plain-text copies are gone."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from access.models import ApiToken
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("access.migrations.0002_copy_drf_tokens")


@pytest.fixture
def old_table():
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id integer NOT NULL UNIQUE)"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token")


def test_old_tokens_become_expiring_tokens_and_the_plain_text_goes(old_table):
    user = UserFactory()
    key = "0123456789abcdef0123456789abcdef01234567"
    created = timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [key, created, user.pk],
        )
    with connection.schema_editor() as editor:
        migration.copy_drf_tokens(apps, editor)

    row = ApiToken.objects.get(user=user)
    assert row.name == "migrated" and row.prefix == key[:8] and row.created_at == created
    assert row.expires_at > timezone.now() + timedelta(days=29)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/courses/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)


def test_without_the_old_table_there_is_nothing_to_do():
    with connection.schema_editor() as editor:
        migration.copy_drf_tokens(apps, editor)
    assert not ApiToken.objects.exists()
