"""Singscope settings: one module, configured only by environment variables (README lists them).

Embedded defaults (no servers): SQLite under var/, Celery over kombu's filesystem transport under
var/broker, media under var/media. Services mode: DATABASE_URL, CELERY_BROKER_URL, MEDIA_ROOT or S3.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / os.environ.get("SINGSCOPE_VAR_DIR", "var")  # relative values are under the repo


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (see README, Configuration)")
    SECRET_KEY = "django-insecure-development-only-key-never-used-with-debug-off"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI files served locally (no CDN)
    "common",
    "accounts",
    "songs",
    "annotations",
    "jobs",
    "reports",
    "datasets",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns axes' lockout into the 429 login page
]

ROOT_URLCONF = "singscope.urls"
WSGI_APPLICATION = "singscope.wsgi.application"

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
        },
    },
]

# --- database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'singscope.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file (not :memory:) so worker subprocesses in tests see the same test database; WAL and a
    # busy timeout let the web process and the worker write without "database is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-singscope.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- files ----------------------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
MEDIA_URL = "/media/"  # never served directly: audio goes through permission-checked views
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    # S3-compatible object storage (AWS_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... read by django-storages).
    default_storage = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"file_overwrite": False}}
else:
    default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Chromium gets WAV durations wrong when whitenoise serves them gzipped: never compress audio.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (
    "jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "swf", "flv",
    "woff", "woff2", "wav", "mp3", "ogg", "opus", "flac", "m4a", "aac", "aif", "aiff", "npy", "f32",
)

MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "500"))
# Production: hand audio bytes to the web server ("nginx": X-Accel-Redirect to AUDIO_SENDFILE_PREFIX +
# storage name, "apache": X-Sendfile); empty means Django streams them itself (with HTTP Range).
AUDIO_SENDFILE = os.environ.get("AUDIO_SENDFILE", "")
AUDIO_SENDFILE_PREFIX = os.environ.get("AUDIO_SENDFILE_PREFIX", "/protected-media/")
MAX_IMPORT_MB = int(os.environ.get("MAX_IMPORT_MB", "2048"))  # zip of song folders (bulk import page/API)
# Uploads above 2.5 MB stream to a temporary file instead of memory (Django's default threshold).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = None
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # non-file request bodies (JSON annotations)

# --- detector -------------------------------------------------------------------------------
DETECTOR_DEVICE = os.environ.get("DETECTOR_DEVICE", "cpu")
MAX_AUDIO_MINUTES = float(os.environ.get("MAX_AUDIO_MINUTES", "180"))

# --- celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    _default_results = f"file://{VAR_DIR / 'celery-results'}"
    (VAR_DIR / "celery-results").mkdir(parents=True, exist_ok=True)
else:
    # Redis: redeliver an unacknowledged task after this long (the worker died); jobs are idempotent.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
    _default_results = CELERY_BROKER_URL
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or _default_results
CELERY_TASK_IGNORE_RESULT = True  # the Job row is the truth; Celery only carries its id
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "detect"
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "3300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "3600"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A child's init warms librosa/torch; on a loaded host that exceeds Celery's 4 s default and the
# pool would kill and respawn children in a loop.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = int(os.environ.get("CELERY_WORKER_PROC_ALIVE_TIMEOUT", "60"))
WORKER_HEARTBEAT_SECONDS = int(os.environ.get("WORKER_HEARTBEAT_SECONDS", "10"))
# A running job whose worker has not touched it for this long is declared dead (worker killed).
JOB_STALE_SECONDS = int(os.environ.get("JOB_STALE_SECONDS", "60"))
# Celery beat (`celery -A singscope beat`, or a worker started with -B as `make run` does): background
# upkeep that no request does (docs/architecture.md, "Background work").
JOBS_HOUSEKEEP_SECONDS = int(os.environ.get("JOBS_HOUSEKEEP_SECONDS", "60"))
RETRAIN_CHECK_SECONDS = int(os.environ.get("RETRAIN_CHECK_SECONDS", "300"))
CELERY_BEAT_SCHEDULE = {
    "jobs.housekeep": {"task": "jobs.housekeep", "schedule": float(JOBS_HOUSEKEEP_SECONDS)},
    "jobs.retrain_check": {"task": "jobs.retrain_check", "schedule": float(RETRAIN_CHECK_SECONDS)},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- auth, API ------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cache (report plots): per-process memory unless CACHE_URL names a shared Redis.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
          if CACHE_URL.startswith(("redis://", "rediss://"))
          else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Login lockout (django-axes, accounts.lockout): failures are counted in the database per
# NFKC-normalised, case-folded username + address; the lockout is HTTP 429 on the login page.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))  # per username + address ...
LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", "900"))  # ... within this many seconds
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the window runs from the last real failure
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not recorded

REST_FRAMEWORK = {
    # Token first: it names the scheme in WWW-Authenticate, so a request without valid credentials
    # gets 401 (DRF answers 403 when the first class is SessionAuthentication, which has no scheme).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Singscope API",
    "DESCRIPTION": "Songs, annotations, detection and training jobs, models and evaluation reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are for members: signed in (session or token), like the rest of the API.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "common.schema.error_responses"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "state" / "kind" field with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "JobStateEnum": "jobs.models.JobState",
        "JobKindEnum": "jobs.models.JobKind",
        "ModelKindEnum": "jobs.models.ModelKind",
        "RevisionStateEnum": "annotations.models.RevisionState",
        "SongStatusEnum": "songs.models.SongStatus",
        "SplitEnum": "songs.models.Split",
        "RoleEnum": "accounts.models.Role",
    },
}

# --- security (production values whenever DEBUG is off; `check --deploy` is clean) -----------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp). Pages run ES modules from static/ only: no inline script, no
# eval. Styles allow 'unsafe-inline' for the waveform library alone (wavesurfer writes a <style> into its
# shadow root and its timeline sets style attributes); it takes a nonce (its cspNonce option) once the
# editor passes one, and then style-src can drop it. Blob URLs: wavesurfer's decoded audio and the
# spectrogram's worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},  # not a line per successful login
}
