"""Settings from the environment; parsers raise on values they cannot read."""
from __future__ import annotations

import os
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.kinds import Identity


class ConfigError(RuntimeError):
    """A setting in the environment cannot be used."""


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    """Read a yes/no setting; anything unrecognised is an error, not False."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a boolean (use true/false)")


def parse_int(value: str | None, name: str, default: int, minimum: int = 0) -> int:
    """Read a whole-number setting no smaller than ``minimum``."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ConfigError(f"{name}={number} is below the minimum {minimum}")
    return number


def parse_timezone(value: str | None, name: str, default: str) -> str:
    """Check that a time-zone name is known to the system's tz database."""
    zone = value or default
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}={zone!r} is not a known time zone") from None
    return zone


def parse_url(value: str | None, name: str, schemes: tuple[str, ...]) -> str | None:
    """Read an optional URL whose scheme must be one of ``schemes``; empty means unset."""
    if value is None or value.strip() == "":
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(f"{name} must be a {'/'.join(schemes)} URL with a host")
    try:
        parts.port  # noqa: B018  (raises on a non-numeric port)
    except ValueError:
        raise ConfigError(f"{name} has an invalid port") from None
    return value.strip().rstrip("/")


def parse_email(value: str | None, name: str, default: str) -> str:
    """Read an e-mail address (a light check: one @ and a dot in the domain)."""
    address = (value or default).strip()
    local, _, domain = address.partition("@")
    if not local or "." not in domain or " " in address:
        raise ConfigError(f"{name}={address!r} is not an e-mail address")
    return address


def parse_identities(value: str | None, name: str, default: str) -> frozenset[str]:
    """A comma-separated list of identity values (core/kinds.py Identity); unknown ones stop start-up."""
    known = {identity.value for identity in Identity}
    chosen = frozenset(part.strip() for part in (value if value is not None else default).split(",") if part.strip())
    unknown = sorted(chosen - known)
    if unknown:
        raise ConfigError(f"{name}: unknown identities {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return chosen


def parse_choice(value: str | None, name: str, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` (case-insensitive); anything else stops start-up."""
    chosen = (value or default).strip().lower()
    if chosen not in choices:
        raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return chosen


def parse_secret(value: str | None, name: str, min_length: int = 16) -> str | None:
    """An optional shared secret (a bearer token): unset, or at least ``min_length`` characters."""
    if value is None or value.strip() == "":
        return None
    if len(value.strip()) < min_length:
        raise ConfigError(f"{name} must be at least {min_length} characters")
    return value.strip()


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgres:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# The development fallback; production refuses it (and any short or repetitive key).
DEV_SECRET_KEY = "dev-only-not-secret"
MIN_SECRET_LENGTH = 32


class Config:
    """Local-development defaults: an SQLite file in the instance folder."""

    env = os.environ
    SECRET_KEY = env.get("SECRET_KEY") or DEV_SECRET_KEY
    # None means "SQLite file in the instance folder", resolved by create_app.
    SQLALCHEMY_DATABASE_URI = (
        normalise_database_url(env["DATABASE_URL"]) if env.get("DATABASE_URL") else None
    )
    SQLALCHEMY_ECHO = parse_bool(env.get("GRIDMUSTER_SQL_ECHO"), "GRIDMUSTER_SQL_ECHO")
    TIMEZONE = parse_timezone(env.get("TIMEZONE"), "TIMEZONE", "Asia/Shanghai")
    DEFAULT_PAGE_SIZE = parse_int(env.get("GRIDMUSTER_PAGE_SIZE"), "GRIDMUSTER_PAGE_SIZE", 50, 1)
    # The staffing board fetches itself this often (seconds) while it is open.
    BOARD_REFRESH_SECONDS = parse_int(env.get("GRIDMUSTER_BOARD_REFRESH_SECONDS"), "GRIDMUSTER_BOARD_REFRESH_SECONDS",
                                      15, 1)
    MAX_PAGE_SIZE = 500
    MAX_CONTENT_LENGTH = parse_int(
        env.get("GRIDMUSTER_MAX_UPLOAD_BYTES"), "GRIDMUSTER_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, 1024
    )
    IMPORT_MAX_ROWS = parse_int(env.get("GRIDMUSTER_IMPORT_MAX_ROWS"), "GRIDMUSTER_IMPORT_MAX_ROWS", 50_000, 1)
    # What reading a roster may cost whatever its size on disk (zip bombs): an XLSX's parts unpacked together,
    # how far one part may inflate (x to 1), and one cell's length (volunteers/roster.py FileLimits).
    IMPORT_MAX_UNZIPPED_BYTES = parse_int(env.get("GRIDMUSTER_IMPORT_MAX_UNZIPPED_BYTES"),
                                          "GRIDMUSTER_IMPORT_MAX_UNZIPPED_BYTES", 128 * 1024 * 1024, 1024 * 1024)
    IMPORT_MAX_RATIO = parse_int(env.get("GRIDMUSTER_IMPORT_MAX_RATIO"), "GRIDMUSTER_IMPORT_MAX_RATIO", 100, 10)
    IMPORT_MAX_CELL_CHARS = parse_int(env.get("GRIDMUSTER_IMPORT_MAX_CELL_CHARS"), "GRIDMUSTER_IMPORT_MAX_CELL_CHARS",
                                      2000, 100)
    JSON_AS_ASCII = False
    # The certificate of service embeds this CJK font (TrueType outlines, so the PDF's text can be searched and
    # copied): Debian's fonts-wqy-microhei by default. A missing font is a clear error when a certificate is drawn.
    CERTIFICATE_FONT = env.get("GRIDMUSTER_CERTIFICATE_FONT") or "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

    # Call-ups: channels, links and the outbox dispatcher (callups/).
    SMTP_URL = parse_url(env.get("GRIDMUSTER_SMTP_URL"), "GRIDMUSTER_SMTP_URL", ("smtp", "smtps"))
    SMTP_FROM = parse_email(env.get("GRIDMUSTER_SMTP_FROM"), "GRIDMUSTER_SMTP_FROM", "gridmuster@localhost.localdomain")
    WECOM_WEBHOOK_URL = parse_url(env.get("GRIDMUSTER_WECOM_WEBHOOK_URL"), "GRIDMUSTER_WECOM_WEBHOOK_URL",
                                  ("http", "https"))
    WEBHOOK_URL = parse_url(env.get("GRIDMUSTER_WEBHOOK_URL"), "GRIDMUSTER_WEBHOOK_URL", ("http", "https"))
    SMS_GATEWAY_URL = parse_url(env.get("GRIDMUSTER_SMS_GATEWAY_URL"), "GRIDMUSTER_SMS_GATEWAY_URL",
                                ("http", "https"))
    PUBLIC_URL = parse_url(env.get("GRIDMUSTER_PUBLIC_URL"), "GRIDMUSTER_PUBLIC_URL",
                           ("http", "https")) or "http://127.0.0.1:5000"
    OUTBOX_LEASE_SECONDS = parse_int(env.get("GRIDMUSTER_OUTBOX_LEASE_SECONDS"), "GRIDMUSTER_OUTBOX_LEASE_SECONDS", 60, 5)
    OUTBOX_BATCH_SIZE = parse_int(env.get("GRIDMUSTER_OUTBOX_BATCH_SIZE"), "GRIDMUSTER_OUTBOX_BATCH_SIZE", 50, 1)
    OUTBOX_MAX_ATTEMPTS = parse_int(env.get("GRIDMUSTER_OUTBOX_MAX_ATTEMPTS"), "GRIDMUSTER_OUTBOX_MAX_ATTEMPTS", 5, 1)
    CHANNEL_TIMEOUT_SECONDS = parse_int(env.get("GRIDMUSTER_CHANNEL_TIMEOUT_SECONDS"),
                                        "GRIDMUSTER_CHANNEL_TIMEOUT_SECONDS", 10, 1)
    WECOM_PER_MINUTE = parse_int(env.get("GRIDMUSTER_WECOM_PER_MINUTE"), "GRIDMUSTER_WECOM_PER_MINUTE", 20, 1)
    CALLUP_SEND_BATCH = parse_int(env.get("GRIDMUSTER_CALLUP_SEND_BATCH"), "GRIDMUSTER_CALLUP_SEND_BATCH", 500, 1)
    # Messages per person and local day through SMS, e-mail, WeCom and webhook (0 = no cap); the rest wait for the
    # next morning. Emergencies are exempt (notices/outbox.py push_time).
    DAILY_MESSAGE_CAP = parse_int(env.get("GRIDMUSTER_DAILY_MESSAGE_CAP"), "GRIDMUSTER_DAILY_MESSAGE_CAP", 5, 0)
    # Identities the district puts on the duty rota (值班): called first in emergencies.
    DUTY_IDENTITIES = parse_identities(env.get("GRIDMUSTER_DUTY_IDENTITIES"), "GRIDMUSTER_DUTY_IDENTITIES",
                                       "sunk_down_cadre,party_member")
    # People who left are anonymised this many days after their last change or call-up (0 = never; PIPL Art. 19).
    RETENTION_DAYS = parse_int(env.get("GRIDMUSTER_RETENTION_DAYS"), "GRIDMUSTER_RETENTION_DAYS", 365, 0)

    # Sessions, CSRF and rate limits (accounts/, web/).
    SECURE_COOKIES = parse_bool(env.get("GRIDMUSTER_SECURE_COOKIES"), "GRIDMUSTER_SECURE_COOKIES", False)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = SECURE_COOKIES
    # The __Host- prefix binds the cookie to this host over HTTPS; browsers refuse it over plain HTTP.
    SESSION_COOKIE_NAME = "__Host-gridmuster" if SECURE_COOKIES else "gridmuster"
    REMEMBER_COOKIE_SECURE = SECURE_COOKIES
    SESSION_IDLE_MINUTES = parse_int(env.get("GRIDMUSTER_SESSION_IDLE_MINUTES"), "GRIDMUSTER_SESSION_IDLE_MINUTES", 30, 1)
    SESSION_MAX_HOURS = parse_int(env.get("GRIDMUSTER_SESSION_MAX_HOURS"), "GRIDMUSTER_SESSION_MAX_HOURS", 12, 1)
    RATELIMIT_STORAGE_URI = env.get("GRIDMUSTER_RATELIMIT_STORAGE_URL") or "memory://"
    # Flask-Limiter strings ("10 per minute"); shared by the web sign-in and POST /api/v1/auth/token.
    LOGIN_RATE_LIMIT = env.get("GRIDMUSTER_LOGIN_RATE_LIMIT") or "10 per minute"
    REGISTER_RATE_LIMIT = env.get("GRIDMUSTER_REGISTER_RATE_LIMIT") or "10 per hour"
    ANSWER_RATE_LIMIT = env.get("GRIDMUSTER_ANSWER_RATE_LIMIT") or "20 per minute"
    RATELIMIT_HEADERS_ENABLED = True
    # Wrong passwords for one login from one address before that address waits 1, 2, 4 … seconds (doubling with
    # each further failure, at most LOGIN_MAX_DELAY_SECONDS). Never a lock: the owner's own address is unaffected.
    LOGIN_MAX_FAILURES = parse_int(env.get("GRIDMUSTER_LOGIN_MAX_FAILURES"), "GRIDMUSTER_LOGIN_MAX_FAILURES", 5, 1)
    LOGIN_MAX_DELAY_SECONDS = parse_int(env.get("GRIDMUSTER_LOGIN_MAX_DELAY_SECONDS"),
                                        "GRIDMUSTER_LOGIN_MAX_DELAY_SECONDS", 900, 1)
    # Roster imports and their dry runs check many mobile numbers at once: per caller (SR-8), audited with the count.
    ROSTER_CHECK_RATE_LIMIT = env.get("GRIDMUSTER_ROSTER_CHECK_RATE_LIMIT") or "10 per hour"
    # Integration tokens (POST /api/v1/tokens, flask tokens create) expire after this many days unless told otherwise.
    INTEGRATION_TOKEN_DAYS = parse_int(env.get("GRIDMUSTER_INTEGRATION_TOKEN_DAYS"),
                                       "GRIDMUSTER_INTEGRATION_TOKEN_DAYS", 90, 1)
    # The bearer-token API is exempt from CSRF (no cookies); every form carries a token.
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Operations (web/ops.py, core/logs.py): log lines as text or JSON, and who may read /metrics. With a token,
    # /metrics wants "Authorization: Bearer <token>"; without one it answers only on loopback, not through a proxy.
    LOG_FORMAT = parse_choice(env.get("GRIDMUSTER_LOG_FORMAT"), "GRIDMUSTER_LOG_FORMAT", ("text", "json"), "text")
    LOG_LEVEL = parse_choice(env.get("GRIDMUSTER_LOG_LEVEL"), "GRIDMUSTER_LOG_LEVEL",
                             ("debug", "info", "warning", "error", "critical"), "info")
    METRICS_TOKEN = parse_secret(env.get("GRIDMUSTER_METRICS_TOKEN"), "GRIDMUSTER_METRICS_TOKEN")

    # flask-smorest / OpenAPI
    API_TITLE = "Gridmuster"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "security": [{"bearerAuth": []}],
        "info": {"description": "Volunteer and party-member mobilisation for urban grid governance."},
    }
    # smorest's Swagger UI page has an inline script the CSP blocks; web/docs.py serves
    # /api/v1/docs instead, from our own static folder so the docs work with no internet.
    OPENAPI_SWAGGER_UI_PATH = None


class ProductionConfig(Config):
    """Refuses to start without a real secret key and a real database."""

    def __init__(self) -> None:
        secret = os.environ.get("SECRET_KEY", "")
        # Config.SECRET_KEY is the environment's own value once SECRET_KEY is set, so compare with the fallback.
        if secret == DEV_SECRET_KEY or len(secret) < MIN_SECRET_LENGTH or len(set(secret)) < 10:
            raise ConfigError(f"SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters"
                              " (python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        self.SECRET_KEY = secret
        # Production runs behind TLS: cookies only over HTTPS, HSTS on every answer.
        self.SECURE_COOKIES = self.SESSION_COOKIE_SECURE = self.REMEMBER_COOKIE_SECURE = parse_bool(
            os.environ.get("GRIDMUSTER_SECURE_COOKIES"), "GRIDMUSTER_SECURE_COOKIES", True)
        self.SESSION_COOKIE_NAME = "__Host-gridmuster" if self.SECURE_COOKIES else "gridmuster"
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL must be set in production")
        self.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ["DATABASE_URL"])


def config_from_env() -> type[Config] | Config:
    """Pick the configuration named by GRIDMUSTER_ENV (development or production)."""
    name = os.environ.get("GRIDMUSTER_ENV", "development").lower()
    if name == "production":
        return ProductionConfig()
    if name in {"development", "dev", "test"}:
        return Config
    raise ConfigError(f"GRIDMUSTER_ENV={name!r} must be development or production")
