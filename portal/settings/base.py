"""Settings shared by every environment. Everything that varies is read from the environment.

See CONTRACT.md: DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, MEDIA_ROOT or the
S3 settings. Nothing secret has a production default (see production.py).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "portal",
    "access",
    "courses",
    "submissions",
    "grading",
]

MIDDLEWARE = [
    "portal.middleware.ReceivedAtMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside the error middleware and the input check, so refusal and error pages (a 400
    # for a NUL byte included) carry the policy too.
    "csp.middleware.CSPMiddleware",
    "portal.middleware.InputCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ApplicationErrorMiddleware",
    # Last, as django-axes asks: turns a locked-out login into access.lockout's answer.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response, in every settings module (django-csp 4). The
# pages load their scripts and styles from static/ only: no inline <script>, no on*= handler,
# no style= attribute (templates/ and static/portal/*.js keep to it; the browser tests fail on
# any violation). data: images are the notebooks' plots (grading.code_view keeps only those).
# Two views widen it: the pages that embed a submitted PDF in an <object> allow object-src
# 'self', and the inline file they embed allows frame-ancestors 'self'
# (submissions.views.file_download, grading's receipt and grading views).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    },
}

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # {{ slug|label }} on every page, without a load tag.
            "builtins": ["portal.templatetags.portal"],
        },
    },
]

# The demo runs on a SQLite file when DATABASE_URL is unset (local.py); test and production
# settings require PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'demo.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections between requests (a new PostgreSQL connection per request costs more than
# the rest of an upload); checked before reuse.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username and address before any password is
# checked (and counts the failures of every authenticate() that is given the request).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored times are UTC; every deadline is shown and computed in its course's own zone.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Caches, in each process's memory. rendered_files: notebooks as nbconvert renders them
# (grading.selectors.feedback), keyed by the file's SHA-256; a bounded number of entries.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "rendered_files": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "rendered-files",
        "OPTIONS": {"MAX_ENTRIES": env.int("RENDERED_FILES_CACHE_ENTRIES", default=100)},
    },
    # Request throttles' counts (access.throttling): in Redis when there is one, so that every
    # web process counts together; in this process's memory for the demo.
    "throttle": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("REDIS_URL"),
            "KEY_PREFIX": "throttle",
        }
        if env.str("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
    ),
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courses:my_courses"
LOGOUT_REDIRECT_URL = "login"

# Sign-in and its limits (docs/api.md, "Signing in"; the access app).
# The client's address: REMOTE_ADDR, or behind N proxies of your own the N-th address from the
# right of X-Forwarded-For (access.throttling.client_ip). Set it to the number of proxies in
# front of the portal (a TLS-terminating nginx: 1); 0 ignores the header, which a client
# could forge.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# API tokens: each valid this long; at most this many per person (past it, issuing one
# revokes the least recently used).
API_TOKEN_TTL = timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=30))
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=50)
# django-axes: failed logins (the login page, the admin's, and POST /api/v1/auth/token/) are
# counted per username and address together, so nobody can lock a student out from elsewhere
# and a class behind one NAT address is not locked out by one person's typos. LOGIN_FAILURE_LIMIT
# failures, each within LOGIN_LOCKOUT_MINUTES of the last, lock that username from that address
# for LOGIN_LOCKOUT_MINUTES after the last one (tries while locked are refused and not counted,
# so the wait a person is told stays true); a successful login clears the count. The lockout is
# kept in the database (axes_accessattempt).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "access.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "access.throttling.client_ip"
# Failures are recorded; successful logins are not logged a second time (Django keeps
# last_login).
AXES_DISABLE_ACCESS_LOG = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # DRF's throttles read the client's address as access.throttling.client_ip does.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # Per person (access.throttling.UploadRateThrottle): hand-ins through the API and the
    # assignment page together.
    "DEFAULT_THROTTLE_RATES": {"uploads": env.str("THROTTLE_UPLOADS", default="20/minute")},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # A multipart body is checked for what is not text as it is parsed (portal.input_check).
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "portal.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "portal.schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "portal.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Course portal API",
    "DESCRIPTION": (
        "The portal's public REST API. Every refusal is a 4xx with "
        '{"error": {"code", "message"}}. See docs/api.md for how the contract is read.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "Requirement": "courses.models.Requirement",
        "Visibility": "grading.apis.autograde.VISIBILITIES",
        "AutogradeStatus": "grading.apis.autograde.AUTOGRADE_STATUSES",
        "TestStatus": "grading.apis.autograde.TEST_STATUSES",
        "RegradeStatus": "grading.apis.regrades.REGRADE_STATUSES",
        "SimilarityStatus": "grading.apis.similarity.SIMILARITY_STATUSES",
    },
}

# Celery: messages carry ids only, JSON only. PostgreSQL holds each job's state.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# Grading results live in PostgreSQL; the result backend only serves ping-style checks.
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection around every task unless told to
# reuse it: a grading job then pays a new PostgreSQL connection (about 3 ms, and the claim's
# queries run cold). Reused for up to this many tasks; Django's CONN_MAX_AGE and health
# checks still apply (bench/grading_overhead.py: bubblewrap overhead 54 -> 46 ms p50).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TASK_DEFAULT_QUEUE = "default"
# The workers consume the grading queues only (docker-compose.yml); the emails, short, ride
# on the CPU one, and so do similarity checks.
CELERY_TASK_ROUTES = {
    "grading.sweep": {"queue": "grading.cpu"},
    "grading.notify_*": {"queue": "grading.cpu"},
    "grading.similarity_check": {"queue": "grading.cpu"},
    "access.notify_*": {"queue": "grading.cpu"},
    "courses.notify_*": {"queue": "grading.cpu"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    "grading-sweep": {"task": "grading.sweep", "schedule": 30.0},
}
# Without Redis (the demo) tasks run in-process, right away.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Grading workers: where bundles are unpacked and jobs laid out (local to each worker).
GRADING_WORK_DIR = env.path("GRADING_WORK_DIR", default="/tmp/portal-grading")
GRADING_MAX_ATTEMPTS = env.int("GRADING_MAX_ATTEMPTS", default=3)
GRADING_HEARTBEAT_SECONDS = env.int("GRADING_HEARTBEAT_SECONDS", default=10)
GRADING_HEARTBEAT_TIMEOUT = env.int("GRADING_HEARTBEAT_TIMEOUT", default=60)
GRADING_REPUBLISH_AFTER = env.int("GRADING_REPUBLISH_AFTER", default=60)
# Celery's hard time limit, a backstop behind the sandbox's own wall-clock timeout.
GRADING_TASK_TIME_LIMIT = env.int("GRADING_TASK_TIME_LIMIT", default=2 * 3600)
GRADING_SETUP_TIMEOUT = env.int("GRADING_SETUP_TIMEOUT", default=1800)
# setup.sh may install Python packages from the network (instructor's code, not students').
GRADING_SETUP_NETWORK = env.bool("GRADING_SETUP_NETWORK", default=True)
# The sandbox workers grade in: "podman" (a container per job from an image per bundle
# version; the default in production and docker-compose.yml) or "bubblewrap" (the light one,
# for the demo and hosts without a container engine).
GRADING_SANDBOX = env.str("GRADING_SANDBOX", default="bubblewrap")
# How long the grading queue keeps a submission for the TA it handed it to (a soft lock).
GRADING_LOCK_MINUTES = env.int("GRADING_LOCK_MINUTES", default=10)

# Email (grading.notifications): Django's mail framework, sent by Celery tasks. Everything
# comes from the environment; the demo prints the emails (local.py).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Course portal <portal@localhost>")
# The links in the emails are absolute: the site's address as people reach it.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# How many emails one task sends (one SMTP connection each).
NOTIFY_CHUNK_SIZE = env.int("NOTIFY_CHUNK_SIZE", default=100)

# "Forgot your password?": reset emails per account an hour (access.passwords); past it the
# page looks the same and nothing is sent.
PASSWORD_RESET_EMAILS_PER_HOUR = env.int("PASSWORD_RESET_EMAILS_PER_HOUR", default=3)
