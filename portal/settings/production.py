"""Production: nothing secret has a default, and DEBUG can never be on."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
if env.bool("DEBUG", default=False):
    raise ImproperlyConfigured("DEBUG must be off in production.")
DEBUG = False
if not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production (PostgreSQL).")

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Plain HTTP is redirected to HTTPS, and browsers are told to come back only over HTTPS for a
# year (HSTS), this host and its subdomains, with consent to the browsers' preload list (the
# header alone lists nothing: a person submits the domain). SECURE_HSTS_SECONDS=0 turns HSTS
# off, say while trying HTTPS out (a browser remembers the header for that long).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks from inside the network arrive over plain HTTP: paths (regexes) not redirected.
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# S3 through django-storages, by settings alone: set AWS_STORAGE_BUCKET_NAME (and the usual
# AWS_* credentials) and install django-storages[s3].
if env.str("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage"}
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME")
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True

# Rendered files (highlighted code, notebooks) are shared by every web process through Redis
# when there is one: a file is highlighted once, not once per gunicorn worker. Keys carry the
# file's SHA-256 and the renderer's version, so an entry never goes stale; a week's expiry
# keeps the set to what is being graded.
if env.str("REDIS_URL", default=""):
    CACHES["rendered_files"] = {  # noqa: F405
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("RENDERED_FILES_CACHE_URL", default=env.str("REDIS_URL")),
        "KEY_PREFIX": "rendered",
        "TIMEOUT": 7 * 24 * 3600,
    }

# Workers grade in containers (Podman) unless told otherwise: see grading/sandbox/engines.py.
GRADING_SANDBOX = env.str("GRADING_SANDBOX", default="podman")
