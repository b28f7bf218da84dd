"""The quick demo: SQLite unless DATABASE_URL is set, tasks in-process unless REDIS_URL is set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# A demo-only key: local settings are never used in production (see production.py).
SECRET_KEY = env.str("SECRET_KEY", default="demo-only-insecure-key-never-use-in-production")
# The demo prints its emails instead of sending them.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
