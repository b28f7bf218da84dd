"""Tokens issued before the access app (Django REST framework's authtoken, one per person,
stored in plain text in authtoken_token) keep working: each becomes an ApiToken with the
same key (only its digest kept), named "migrated", expiring API_TOKEN_TTL after this
migration; the plain-text rows are then deleted. The old table itself is left (empty): the
authtoken app is no longer installed, and its migration records stay as they were."""

import hashlib
from datetime import UTC, datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"


def _moment(created, now: datetime) -> datetime:
    """The old row's creation time, aware (SQLite hands it back naive, or as text)."""
    if isinstance(created, str):
        created = parse_datetime(created)
    if created is None:
        return now
    if timezone.is_naive(created):
        created = created.replace(tzinfo=UTC)
    return min(created, now)


def copy_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("access", "ApiToken")
    now = timezone.now()
    quoted = connection.ops.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {quoted}")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                user_id=user_id,
                digest=hashlib.sha256(key.encode()).hexdigest(),
                prefix=key[:8],
                name="migrated",
                created_at=_moment(created, now),
                expires_at=now + settings.API_TOKEN_TTL,
            )
            for key, user_id, created in rows
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quoted}")


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [migrations.RunPython(copy_drf_tokens, migrations.RunPython.noop)]
