"""Django settings for SafeClass.

Every setting that differs between a laptop and a school's server is read from an
environment variable named SAFECLASS_*, with a safe local default. A malformed value
fails loudly at start-up rather than being silently ignored. Secrets can also be read
from a file named by SAFECLASS_<NAME>_FILE. docs/configuration.md lists them all.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    file_name = os.environ.get(f"SAFECLASS_{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(f"SAFECLASS_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = env(name, "1" if default else "0").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"SAFECLASS_{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"SAFECLASS_{name} must be a whole number, not {raw!r}") from exc


def database_from_url(url: str) -> dict[str, object]:
    """sqlite:///path or postgres://user:password@host:port/name."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative/to/project or sqlite:////absolute/path
        name = path[1:]
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name if name.startswith("/") else str(BASE_DIR / name),
            # Wait for a writer rather than failing with "database is locked".
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 0,
        }
    raise ValueError(f"SAFECLASS_DATABASE_URL has an unknown scheme: {parts.scheme!r}")


DEBUG = env_bool("DEBUG", True)
VAR_DIR = Path(env("VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ValueError("SAFECLASS_SECRET_KEY must be set when SAFECLASS_DEBUG is off")
    # A per-checkout development key, kept out of the repository.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
# Links in emails to parents and staff are built from this, never from the request's Host.
BASE_URL = env("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [BASE_URL]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "safeclass.web",
    "safeclass.audit",
    "safeclass.accounts",
    "safeclass.schools",
    "safeclass.lessons",
    "safeclass.invitations",
    "safeclass.live",
    "safeclass.recordings",
    "safeclass.oversight",
    "django_tasks",
    "django_tasks_db",
    "safeclass.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "safeclass.web.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "safeclass.web.middleware.SchoolLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "safeclass.web.middleware.SchoolTimezoneMiddleware",
]

ROOT_URLCONF = "safeclass.urls"
ASGI_APPLICATION = "safeclass.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "safeclass" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "safeclass.web.context_processors.navigation",
                "safeclass.web.context_processors.session_timeout",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env("DATABASE_URL", "sqlite:///var/safeclass.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.StaffUser"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if env_bool("FAST_PASSWORD_HASHER", False):
    # Tests only: hashing with the real PBKDF2 cost would dominate the suite's run time.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Staff sessions end after a school day of inactivity and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_SECONDS", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = BASE_URL.startswith("https://")
if BASE_URL.startswith("https://"):
    SECURE_HSTS_SECONDS = 31536000
    SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# django-allauth: staff sign in by email; nobody signs themselves up (accounts are made
# by the school's admin and activated from the school mailbox).
ACCOUNT_ADAPTER = "safeclass.accounts.adapter.SchoolAccountAdapter"
# allauth's forms and messages in SafeClass's words, translatable (allauth has no Welsh).
ACCOUNT_FORMS = {
    "login": "safeclass.accounts.forms.SchoolLoginForm",
    "change_password": "safeclass.accounts.forms.SchoolChangePasswordForm",
    "set_password": "safeclass.accounts.forms.SchoolSetPasswordForm",
    "reset_password": "safeclass.accounts.forms.SchoolResetPasswordForm",
    "reset_password_from_key": "safeclass.accounts.forms.SchoolResetPasswordKeyForm",
    "reauthenticate": "safeclass.accounts.forms.SchoolReauthenticateForm",
}
MFA_ADAPTER = "safeclass.accounts.adapter.SchoolMFAAdapter"
MFA_FORMS = {
    "authenticate": "safeclass.accounts.forms.SchoolAuthenticateForm",
    "reauthenticate": "safeclass.accounts.forms.SchoolMFAReauthenticateForm",
    "activate_totp": "safeclass.accounts.forms.SchoolActivateTOTPForm",
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
# Five wrong passwords for an account (or twenty from one address) lock sign-in for a while.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("LOGIN_RATE_LIMIT", "20/5m/ip,5/15m/key"),
    "login": "60/m/ip",
    "reset_password": "10/m/ip,3/15m/key",
}
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SafeClass"

# Caches back rate limits; one process shares memory, several need Redis.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "SafeClass <no-reply@safeclass.invalid>")
# Only for the file-based email backend (the browser tests read parents' emails there).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "safeclass" / "locale"]
USE_I18N = True
# The parent's English | Cymraeg choice on the join pages (safeclass/web/middleware.py).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "safeclass" / "static"]

# Debian's janus.js and webrtc-adapter are served as our own static files (no CDN, no build).
STATICFILES_DIRS += [p for p in (Path("/usr/share/javascript/janus-gateway"),
                                 Path("/usr/share/javascript/webrtc-adapter")) if p.is_dir()]

# ---------------------------------------------------------------- the media server (Janus)
# Our server talks to Janus' HTTP API and admin API with the secrets in JANUS_SECRETS_FILE
# (written, mode 0600, by `python -m safeclass.media.process`); browsers get only
# JANUS_PUBLIC_URL and a participant token of their own. See docs/media.md.
JANUS_API_URL = env("JANUS_API_URL", "http://127.0.0.1:8088/janus")
JANUS_ADMIN_URL = env("JANUS_ADMIN_URL", "http://127.0.0.1:7088/admin")
JANUS_PUBLIC_URL = env("JANUS_PUBLIC_URL", JANUS_API_URL)
JANUS_SECRETS_FILE = Path(env("JANUS_SECRETS_FILE", str(VAR_DIR / "janus" / "secrets.json")))
JANUS_RECORD_DIR = Path(env("JANUS_RECORD_DIR", str(VAR_DIR / "recordings")))
# The user name Janus' event handler signs in with (the password is in the secrets file).
JANUS_EVENT_USER = env("JANUS_EVENT_USER", "janus")
# Test-only: how many real seconds one lesson minute lasts (60 in real life). Browser tests
# set it to a few seconds so auto-end and the 5- and 1-minute warnings are tested quickly.
LESSON_MINUTE_SECONDS = float(env("TEST_LESSON_MINUTE_SECONDS", "60"))

# ------------------------------------------------------------------------ recordings
# Janus writes a lesson's raw .mjr files into JANUS_RECORD_DIR/<recording folder>/ while it
# records; after the lesson a background job turns them into one playable file, encrypts
# everything into RECORDING_STORE_DIR and deletes the raw files. Plaintext exists only in
# RECORDING_WORK_DIR (private) while a job runs. Neither folder may be web-served.
RECORDING_STORE_DIR = Path(env("RECORDING_STORE_DIR", str(VAR_DIR / "recording-store")))
RECORDING_WORK_DIR = Path(env("RECORDING_WORK_DIR", str(VAR_DIR / "recording-work")))
# The age identity ("AGE-SECRET-KEY-1...") recordings are encrypted to. Set
# SAFECLASS_RECORDING_KEY (or SAFECLASS_RECORDING_KEY_FILE) in production; in DEBUG a key is
# made once in RECORDING_KEY_PATH (mode 0600) when none is set.
RECORDING_KEY = env("RECORDING_KEY")
RECORDING_KEY_PATH = VAR_DIR / "recording.key"
# Disk space one publisher's recording needs per lesson minute (the room's bitrate caps:
# 512 kbit/s of video + 64 kbit/s of audio ≈ 4.3 MB/min, rounded up).
RECORDING_BYTES_PER_PUBLISHER_MINUTE = env_int("RECORDING_BYTES_PER_PUBLISHER_MINUTE",
                                               5_000_000)
# While recording is required, the raw files must grow at least once in this many seconds
# (Janus may say "ok" and record nothing); otherwise staff are alerted and pupils wait.
RECORDING_STALL_SECONDS = env_int("RECORDING_STALL_SECONDS", 10)
# Post-processing runs in the app process by default; set false when separate workers run
# `manage.py db_worker` (several app processes, a school trust).
RECORDING_WORKER_IN_APP = env_bool("RECORDING_WORKER_IN_APP", True)

# Background jobs (the django-tasks backport; its queue is a database table, so a job
# survives a restart of the app).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}



def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Content Security Policy: our own scripts and styles only; media via Janus (WebRTC).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        # The live lesson WebSocket ('self') and the Janus API the browser joins rooms on.
        "connect-src": ["'self'", _origin(JANUS_PUBLIC_URL)],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Invitation links open this many minutes before the lesson starts.
LESSON_OPENS_MINUTES_BEFORE = env_int("LESSON_OPENS_MINUTES_BEFORE", 10)
# Unknown or invalid join tokens allowed per client address per minute before refusing.
JOIN_RATE_LIMIT_PER_MINUTE = env_int("JOIN_RATE_LIMIT_PER_MINUTE", 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
