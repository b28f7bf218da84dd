"""The floor for bench/deadline_rush.py: a bare Django app that takes the same multipart upload
and does only what any upload must, one row and one file. Not part of the portal.

This module is the settings, the URL conf and the view at once; serve it with::

    DJANGO_SETTINGS_MODULE=bench.bare_app gunicorn 'django.core.wsgi:get_wsgi_application()'

Environment: ``DATABASE_URL`` (PostgreSQL, same as the portal's, ``conn_max_age`` included),
``MEDIA_ROOT``, ``SECRET_KEY``. The table is made by :func:`create_table` (the bench calls it);
no models, no migrations, no middleware, no authentication.
"""

from __future__ import annotations

import uuid

import environ
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

_env = environ.Env()

# ---- settings ---------------------------------------------------------------------------------

DEBUG = False
SECRET_KEY = _env.str("SECRET_KEY")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = __name__
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES = {"default": _env.db("DATABASE_URL")}
USE_TZ = True
TIME_ZONE = "UTC"
MEDIA_ROOT = _env.str("MEDIA_ROOT")
STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

TABLE = "bench_bare_upload"


def create_table(cursor) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(
        f"""CREATE TABLE IF NOT EXISTS {TABLE} (
            id bigserial PRIMARY KEY,
            idempotency_key varchar(200) UNIQUE,
            name varchar(255) NOT NULL,
            size bigint NOT NULL,
            path varchar(500) NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now()
        )"""
    )


# ---- the view ---------------------------------------------------------------------------------


@csrf_exempt
def upload(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    f = request.FILES.get("files")
    if f is None:
        return JsonResponse({"error": "no file"}, status=400)
    name = f.name or "upload"
    stored = default_storage.save(f"bare/{uuid.uuid4().hex}/{name}", f)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (idempotency_key, name, size, path) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            [request.headers.get("Idempotency-Key"), name, f.size, stored],
        )
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=201)


urlpatterns = [path("upload/", upload)]
