"""Settings for the Partner Portal: one file, every value from the environment (see .env.example)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
from celery.schedules import crontab

from portal.env import env_bool, env_date, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
TESTING = env_bool("PORTAL_TESTING", False)
# A development key is allowed only with DEBUG on; production must provide its own.
SECRET_KEY = env_secret("DJANGO_SECRET_KEY", "dev-insecure-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "django_celery_beat",
    "pgtrigger",
    "pghistory",
    "portal",
    "accounts",
    "incentives",
    "earnings",
    "membership",
    "cosell",
    "security",
    "commerce",
    "home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Request count, latency and queries per route; after WhiteNoise, so static files are not counted.
    "portal.metrics.RequestMetricsMiddleware",
    # After WhiteNoise, so static files keep their long cache and carry no page policy.
    "csp.middleware.CSPMiddleware",
    "portal.security_headers.NoStoreMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "portal.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SlidingSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication: log lines carry the request's organization (portal/logs.py).
    "portal.logs.OrganizationContextMiddleware",
    "portal.middleware.RequireVerifiedSecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = env_str("DJANGO_ROOT_URLCONF", "home.urls")
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
            ],
            "builtins": ["portal.templatetags.capabilities", "portal.templatetags.history"],
        },
    },
]

# --- Data stores -----------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/portal")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": env_int("DB_POOL_MAX", 20)}}
DATABASES["default"]["TEST"] = {"NAME": env_str("DJANGO_TEST_DATABASE", "test_portal")}
if env_bool("DB_POOL_DISABLED", False):
    DATABASES["default"]["OPTIONS"] = {}
    DATABASES["default"]["CONN_MAX_AGE"] = 60
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "portal.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
    }
}

# --- Auth, sessions, MFA -------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:index"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3
if TESTING:
    # Tests create many users; a fast hash keeps the suite quick. Never used outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Idle sessions end after SESSION_IDLE_MINUTES: SlidingSessionMiddleware renews the expiry at
# most once a minute. (Saving the session on every request would let a slow concurrent request
# write back a stale copy and undo a sign-in step.)
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 60) * 60
SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

OTP_TOTP_ISSUER = "Partner Portal"
OTP_TOTP_TOLERANCE = 1
# Changing a factor (new backup codes, another authenticator app) needs a check this recent.
MFA_RECENT_CHECK_SECONDS = env_int("MFA_RECENT_CHECK_SECONDS", 300)

AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# --- Security headers (checked by `manage.py check --deploy` with DEBUG off) ------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy and caching of signed-in pages ---
# Scripts and styles come from this site only: the vendored htmx and Chart.js and static/js/portal.js,
# which templates drive with data-* attributes (no inline script, event handler or style attribute;
# tests/portal/test_security_headers.py scans the templates). img-src allows data: URLs for images
# that libraries draw as data URIs (Swagger UI's icons, Chart.js exports); the TOTP QR code is inline
# SVG markup, which needs no source. Every response Django serves is `no-store` (portal/security_headers.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"

# --- Internationalisation, static, media ---------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and not TESTING
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
MEDIA_URL = "/media/"
PORTAL_UPLOAD_MAX_BYTES = env_int("PORTAL_UPLOAD_MAX_MB", 20) * 1024 * 1024
# Rows the import pipeline reads, checks and stages at a time (portal.imports): its memory bound.
PORTAL_IMPORT_CHUNK_ROWS = env_int("PORTAL_IMPORT_CHUNK_ROWS", 50_000)
# What a ZIP-based upload (XLSX, DOCX, PPTX) may unpack to, and image sizes: a zip or pixel bomb is
# refused before any reader opens it (portal.uploads.zip_inspect, open_image).
PORTAL_UPLOAD_MAX_UNPACKED_BYTES = env_int("PORTAL_UPLOAD_MAX_UNPACKED_MB", 200) * 1024 * 1024
PORTAL_UPLOAD_MAX_COMPRESSION_RATIO = env_int("PORTAL_UPLOAD_MAX_COMPRESSION_RATIO", 100)
PORTAL_UPLOAD_MAX_ZIP_MEMBERS = 10_000
PORTAL_UPLOAD_MAX_IMAGE_PIXELS = 89_478_485
# The vendor's price lists run to ~30 MB per 100,000 rows; only admins upload them.
PORTAL_PRICE_LIST_MAX_BYTES = env_int("PORTAL_PRICE_LIST_MAX_MB", 200) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = PORTAL_UPLOAD_MAX_BYTES
# Larger uploads stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- E-mail (portal.notifications) ------------------------------------------------------------

# Links in e-mails are absolute: the address people reach the portal at.
SITE_URL = env_str("SITE_URL", "http://localhost:8000")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "Partner Portal <no-reply@localhost>")
# One URL (smtp://user:password@host:587/?tls=True, smtp+ssl://…:465, console://) or the parts.
EMAIL_URL = env_str("EMAIL_URL", "")
if EMAIL_URL:
    vars().update(dj_email_url.parse(EMAIL_URL))
else:
    EMAIL_BACKEND = (
        "django.core.mail.backends.console.EmailBackend"
        if env_bool("DJANGO_EMAIL_CONSOLE", False)
        else "django.core.mail.backends.smtp.EmailBackend"
    )
    EMAIL_HOST = env_str("EMAIL_HOST", env_str("DJANGO_EMAIL_HOST", "localhost"))
    EMAIL_PORT = env_int("EMAIL_PORT", env_int("DJANGO_EMAIL_PORT", 25))
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
# `make run` points EMAIL_URL at its embedded SMTP catcher, which keeps every message in this
# Maildir; staff read it on the admin's Mailbox page. Empty: no mailbox page.
PORTAL_DEV_MAILDIR = env_str("PORTAL_DEV_MAILDIR", "")

# --- API ---------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_auth.OrganizationTokenAuthentication",
        "portal.api_policy.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api_policy.IsOrganizationMember"],
    "DEFAULT_PAGINATION_CLASS": "portal.api_policy.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "portal.api_policy.FilterBackend",
        "portal.api_policy.SearchFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["portal.api_policy.OrganizationRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"organization": env_str("API_THROTTLE_RATE", "6000/minute")},
    "EXCEPTION_HANDLER": "portal.api.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.api.PortalAutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Partner Portal API",
    "DESCRIPTION": "Organizations, users and roles, customers, the Action Center, audit events and "
    "every workspace. Authenticate with an OAuth2 client-credentials token bound to one "
    "organization (POST /o/token/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its Swagger UI are for API clients and people who passed the second factor;
    # Swagger UI's files come with the sidecar package (no CDN) and its script is not inline.
    "SERVE_AUTHENTICATION": [
        "accounts.api_auth.OrganizationTokenAuthentication",
        "portal.api_policy.VerifiedSessionAuthentication",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name ("status", "segment") get a name of their own.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "portal.roles.Role",
        "ActionItemStatusEnum": "accounts.choices.ActionItemStatus",
        "CustomerSegmentEnum": "accounts.choices.CustomerSegment",
        "JobStatusEnum": "portal.choices.JobStatus",
        "DeliveryStatusEnum": "portal.choices.DeliveryStatus",
        "SubscriptionStatusEnum": "commerce.choices.SubscriptionStatus",
        "MigrationStatusEnum": "commerce.choices.MigrationStatus",
        "CommerceSegmentEnum": "commerce.choices.Segment",
        "VerificationCheckKindEnum": "security.choices.CheckKind",
        "ProofKindEnum": "incentives.choices.ProofKind",
        "DesignationEnum": "membership.choices.Designation",
        "BenefitKindEnum": "membership.choices.BenefitKind",
        "BenefitUnitEnum": "membership.choices.BenefitUnit",
        "MetricUnitEnum": "membership.choices.MetricUnit",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.add_problem_responses",
    ],
}

# Scopes are per workspace; an account admin grants them to an API client of their organization.
# The vendor's feeds (/api/v1/vendor/<feed>/): scopes only vendor clients are granted (never listed
# among the partner clients' scopes above).
VENDOR_FEEDS = (
    "customers",
    "subscriptions",
    "transactions",
    "opportunities",
    "referrals",
    "security",
    "membership",
)
VENDOR_SCOPES = {
    f"vendor.{feed}:{mode}": f"{mode.title()} the vendor's {feed} feed"
    for feed in VENDOR_FEEDS
    for mode in ("read", "write")
}
OAUTH2_PROVIDER = {
    "SCOPES": {
        f"{workspace}:{mode}": f"{mode.title()} {workspace}"
        for workspace in (
            "accounts",
            "incentives",
            "earnings",
            "membership",
            "cosell",
            "security",
            "commerce",
        )
        for mode in ("read", "write")
    },
    "DEFAULT_SCOPES": ["accounts:read"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "PKCE_REQUIRED": True,
    # The OAuth 2.0 Security BCP (RFC 9700) throughout: only client credentials are used here.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # Tokens only for live API clients, only by client credentials, only with granted scopes.
    "OAUTH2_VALIDATOR_CLASS": "accounts.oauth.ApiClientOAuth2Validator",
}
# Token requests per client id (or per address when none is given), per window.
OAUTH_TOKEN_THROTTLE_RATE = env_str("OAUTH_TOKEN_THROTTLE_RATE", "60/minute")

OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth2_provider.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"

# --- Celery ------------------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task not acknowledged within this many seconds is redelivered to another worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Logging -----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Commerce: migrations and the vendor-led waves (spec/commerce.md §3) -------------------------

# The vendor migrates legacy subscriptions at renewal from these dates; partners are warned in
# the Action Center COMMERCE_WAVE_WARNING_DAYS before.
COMMERCE_WAVE_COMMERCIAL_START = env_date("COMMERCE_WAVE_COMMERCIAL_START", "2024-01-11")
COMMERCE_WAVE_PUBLIC_SECTOR_START = env_date("COMMERCE_WAVE_PUBLIC_SECTOR_START", "2024-07-01")
COMMERCE_WAVE_WARNING_DAYS = env_int("COMMERCE_WAVE_WARNING_DAYS", 14)
# Legacy subscriptions migrated per committed chunk of a batch or wave job.
COMMERCE_MIGRATION_CHUNK_SIZE = env_int("COMMERCE_MIGRATION_CHUNK_SIZE", 5000)

# django-celery-beat's DatabaseScheduler copies this into its tables when beat starts.
CELERY_BEAT_SCHEDULE = {
    "commerce-migration-waves-daily": {
        "task": "commerce.tasks.migration_waves_daily_task",
        "schedule": crontab(hour=2, minute=15),
        "options": {"expires": 60 * 60 * 12},
    },
    # Partners' migration schedules due today; the vendor-led wave skips what a schedule waits for.
    "commerce-migration-schedules-daily": {
        "task": "commerce.tasks.migration_schedules_run",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 60 * 60 * 12},
    },
    # New-commerce subscriptions whose term ended renew (auto-renew on) with a new 7-day window.
    "commerce-nce-renewals-daily": {
        "task": "commerce.tasks.nce_renewals_run",
        "schedule": crontab(hour=0, minute=30),
        "options": {"expires": 60 * 60 * 12},
    },
}
# E-mails whose task was lost are sent again; the daily digest goes out in the morning.
CELERY_BEAT_SCHEDULE["notifications-outbox-sweep"] = {
    "task": "portal.tasks.outbox_sweep_task",
    "schedule": crontab(minute="*/2"),
    "options": {"expires": 110},
}
CELERY_BEAT_SCHEDULE["notifications-alert-rules-daily"] = {
    "task": "portal.tasks.alert_rules_daily_task",
    "schedule": crontab(hour=6, minute=30),
    "options": {"expires": 60 * 60 * 6},
}
CELERY_BEAT_SCHEDULE["notifications-daily-digest"] = {
    "task": "portal.tasks.notification_digest_task",
    "schedule": crontab(hour=env_int("NOTIFICATIONS_DIGEST_HOUR", 7), minute=0),
    "options": {"expires": 60 * 60 * 6},
}

# --- Earnings: payout runs, downloads and background exports (spec/earnings.md §2, §6) ---------

# Transactions per chunk of a payout run: each chunk commits once, so a killed run resumes there.
EARNINGS_PAYOUT_CHUNK_SIZE = env_int("EARNINGS_PAYOUT_CHUNK_SIZE", 50_000)

# A page's CSV download streams from PostgreSQL COPY; above this many rows it is refused in favour
# of a background export (a web worker should not hold a connection for minutes).
EARNINGS_DOWNLOAD_STREAM_MAX_ROWS = env_int("EARNINGS_DOWNLOAD_STREAM_MAX_ROWS", 1_000_000)
# XLSX is built in the worker's memory and disk; larger reports are CSV only.
EARNINGS_XLSX_MAX_ROWS = env_int("EARNINGS_XLSX_MAX_ROWS", 100_000)
# Where background exports write their files (not under MEDIA_ROOT: they are served only
# through the export's own page, to its organization, until the link expires).
EARNINGS_EXPORT_DIR = Path(env_str("EARNINGS_EXPORT_DIR", str(BASE_DIR / ".data" / "exports")))
EARNINGS_EXPORT_TTL_HOURS = env_int("EARNINGS_EXPORT_TTL_HOURS", 24)
CELERY_BEAT_SCHEDULE["earnings-exports-purge-expired"] = {
    "task": "earnings.export_tasks.export_purge_expired_task",
    "schedule": crontab(minute=20),
    "options": {"expires": 60 * 60},
}

# --- Incentives: claims, proof of execution and their schedules (spec/incentives.md §6, §7) ------

# Largest proof-of-execution file a partner may attach to a claim, in megabytes.
INCENTIVES_PROOF_MAX_MB = env_int("INCENTIVES_PROOF_MAX_MB", 20)
# Claims past their deadline expire (or are finally rejected) each night; reminders for claims that
# need the partner are raised in the Action Center each morning. Both are idempotent.
CELERY_BEAT_SCHEDULE["incentives-claims-expire"] = {
    "task": "incentives.tasks.claims_expire_task",
    "schedule": crontab(hour=1, minute=30),
    "options": {"expires": 60 * 60 * 12},
}
CELERY_BEAT_SCHEDULE["incentives-claims-remind"] = {
    "task": "incentives.tasks.claims_remind_task",
    "schedule": crontab(hour=6, minute=0),
    "options": {"expires": 60 * 60 * 12},
}

# --- Co-sell: referral expiry (spec/cosell.md §10) ------------------------------------------------

# Days an inbound referral may wait for acceptance before the nightly job closes it as Expired.
COSELL_REFERRAL_EXPIRY_DAYS = env_int("COSELL_REFERRAL_EXPIRY_DAYS", 14)
# Imported here so this section stays self-contained at the end of the file.
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

if not 7 <= COSELL_REFERRAL_EXPIRY_DAYS <= 30:
    raise ImproperlyConfigured("COSELL_REFERRAL_EXPIRY_DAYS must be between 7 and 30 (spec/cosell.md §10).")
CELERY_BEAT_SCHEDULE["cosell-referrals-expire"] = {
    "task": "cosell.tasks.referrals_expire_task",
    "schedule": crontab(hour=1, minute=45),
    "options": {"expires": 60 * 60 * 12},
}
# Action Center reminders 3 days and 1 day before a referral expires; hourly, so the 1-day one
# arrives close to a day ahead. Idempotent.
CELERY_BEAT_SCHEDULE["cosell-referrals-remind"] = {
    "task": "cosell.tasks.referrals_remind_task",
    "schedule": crontab(minute=15),
    "options": {"expires": 60 * 60},
}

# --- Security and compliance (spec/security.md, spec/accounts.md §4) -----------------------------

# Largest verification document (PDF, PNG, JPEG) a partner may upload, in megabytes.
SECURITY_VERIFICATION_MAX_MB = env_int("SECURITY_VERIFICATION_MAX_MB", 10)
# Days before a GDAP relationship without auto-extend ends that the Action Center warns (spec §3.4).
SECURITY_GDAP_WARNING_DAYS = env_int("SECURITY_GDAP_WARNING_DAYS", 30)
# Nightly: GDAP expiry, auto-extension and warnings; the day's security score snapshot; training
# reminders. Each is idempotent, so a re-run (or a missed night caught up) changes nothing twice.
CELERY_BEAT_SCHEDULE["security-gdap-daily"] = {
    "task": "security.tasks.gdap_daily_task",
    "schedule": crontab(hour=0, minute=30),
    "options": {"expires": 60 * 60 * 12},
}
CELERY_BEAT_SCHEDULE["security-score-snapshots"] = {
    "task": "security.tasks.security_snapshots_task",
    "schedule": crontab(hour=2, minute=0),
    "options": {"expires": 60 * 60 * 12},
}
CELERY_BEAT_SCHEDULE["security-trainings-remind"] = {
    "task": "security.tasks.trainings_remind_task",
    "schedule": crontab(hour=6, minute=30),
    "options": {"expires": 60 * 60 * 12},
}

# --- Membership: capability scores and Marketplace Rewards (spec/membership.md §2.5, §4) ----------

# Daily: every organization's partner capability scores (then designation eligibility, renewal and
# lapse), and the Marketplace Rewards anniversaries. Both are idempotent: a rerun on the same day
# replaces that day's scores and grants nothing twice.
CELERY_BEAT_SCHEDULE["membership-capability-scores"] = {
    "task": "membership.tasks.recalculate_capability_scores_task",
    "schedule": crontab(hour=6, minute=0),
    "options": {"expires": 60 * 60 * 12},
}
CELERY_BEAT_SCHEDULE["membership-rewards-anniversaries"] = {
    "task": "membership.tasks.marketplace_rewards_anniversaries_task",
    "schedule": crontab(hour=6, minute=30),
    "options": {"expires": 60 * 60 * 12},
}

# --- Logging and metrics ---
# Logs go to stdout: one JSON object per line (portal.logs.JsonFormatter: timestamp, level, logger,
# message, request_id, organization_id, task_id in a Celery worker, exception) with LOG_FORMAT=json,
# the default with DEBUG off; LOG_FORMAT=text gives plain lines. Celery workers configure logging
# from this same LOGGING (portal/celery.py), and gunicorn's own log from portal/gunicorn_conf.py.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, got {LOG_FORMAT!r}")
LOGGING["formatters"]["json"] = {"()": "portal.logs.JsonFormatter"}
LOGGING["handlers"]["console"]["stream"] = "ext://sys.stdout"
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_FORMAT == "json" else "plain"

# Prometheus metrics at /metrics (portal/metrics.py): scraped with `Authorization: Bearer
# <METRICS_TOKEN>` (or METRICS_TOKEN_FILE), or viewed by vendor staff who passed the second factor.
# Unset, only staff can see them. With several gunicorn workers, set PROMETHEUS_MULTIPROC_DIR
# (an environment variable, read by prometheus_client itself) and start gunicorn with
# `-c python:portal.gunicorn_conf`.
METRICS_TOKEN = env_secret("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 24 characters (e.g. `openssl rand -hex 32`).")
# Scrapers and probes inside the private network speak plain HTTP to gunicorn: answer them rather
# than redirect to HTTPS (a token already sent in clear is not protected by a redirect).
SECURE_REDIRECT_EXEMPT = [r"^metrics$", r"^status/ready/$"]
