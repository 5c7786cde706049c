"""Settings read once from `YISHI_*` environment variables."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
from dataclasses import dataclass
from functools import lru_cache

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/yishi.db"
# Only for a laptop: any deployment sets YISHI_SECRET_KEY (the app refuses the default when YISHI_ENV=production).
DEV_SECRET_KEY = "yishi-dev-secret-change-me-0123456789abcdef"  # noqa: S105 (refused in production)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: str) -> tuple[Network, ...]:
    """`10.0.0.5, 10.1.0.0/16`: addresses and CIDR blocks; a typo fails at start-up, not on a request."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    migrations_database_url: str = ""
    secret_key: str = DEV_SECRET_KEY
    env: str = "development"
    token_audience: str = "yishi-api"  # noqa: S105 (a name, not a secret)
    token_minutes: int = 60
    login_max_failures: int = 5
    login_window_seconds: int = 900
    debug: bool = False
    sql_echo: bool = False
    db_pool_size: int = 10
    # The database is a Citus coordinator: the tenant settings go as SET LOCAL, which it forwards to its workers.
    database_citus: bool = False
    password_hash: str = "default"  # noqa: S105 (the hashing profile's name)
    media_dir: str = "./var/media"
    # Where photos are kept: s3://bucket/prefix?endpoint=…&region=… (credentials: AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY) or file:///path; empty: the folder media_dir.
    media_url: str = ""
    portal_domain: str = ""
    # The reverse proxies whose X-Forwarded-For is believed; anyone else's is ignored.
    trusted_proxies: tuple[Network, ...] = ()

    # Notifications: where links in messages point, and the channels' servers (empty: not configured).
    public_url: str = "http://127.0.0.1:8000"
    smtp_url: str = ""  # smtp://user:password@host:port?from=yishi@example.org (smtps:// for TLS)
    sms_url: str = ""  # aliyun://AccessKeyId:AccessKeySecret@dysmsapi.aliyuncs.com?sign=议事
    # JSON {kind: template code}: the provider's approved template of each kind, where it differs from the default.
    sms_templates: str = ""
    # On SQLite the job engine runs in the app's own process (make run); on PostgreSQL in `yishi worker`.
    worker_in_process: bool | None = None
    # A job worker silent this long is taken for dead and its running jobs are retried by another.
    jobs_stalled_seconds: int = 30

    # Keys the audit chain's links (see core/events.py); empty: derived from secret_key, never the secret itself.
    audit_key: str = ""

    def __post_init__(self) -> None:
        if not self.audit_key:
            derived = hmac.new(self.secret_key.encode(), b"yishi-audit-chain", hashlib.sha256).hexdigest()
            object.__setattr__(self, "audit_key", derived)

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def jobs_in_process(self) -> bool:
        """Whether this process runs the job engine's worker itself (and its queue lives in memory)."""
        return not self.is_postgres if self.worker_in_process is None else self.worker_in_process

    @property
    def sms_template_codes(self) -> dict[str, str]:
        """`sms_templates` parsed: `{"concern.accepted": "SMS_123456789"}`; anything else is refused."""
        if not self.sms_templates.strip():
            return {}
        parsed = json.loads(self.sms_templates)
        if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
            raise ValueError("YISHI_SMS_TEMPLATES must be a JSON object of kind to template code")
        return parsed

    @property
    def owner_database_url(self) -> str:
        """The URL migrations run with: the owner role (defaults to the app's URL)."""
        return self.migrations_database_url or self.database_url

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("YISHI_DATABASE_URL", DEFAULT_DATABASE_URL),
            migrations_database_url=env.get("YISHI_MIGRATIONS_DATABASE_URL", ""),
            secret_key=env.get("YISHI_SECRET_KEY", DEV_SECRET_KEY),
            env=env.get("YISHI_ENV", "development"),
            token_audience=env.get("YISHI_TOKEN_AUDIENCE", "yishi-api"),
            token_minutes=int(env.get("YISHI_TOKEN_MINUTES", "60")),
            login_max_failures=int(env.get("YISHI_LOGIN_MAX_FAILURES", "5")),
            login_window_seconds=int(env.get("YISHI_LOGIN_WINDOW_SECONDS", "900")),
            debug=_bool(env.get("YISHI_DEBUG", "0")),
            sql_echo=_bool(env.get("YISHI_SQL_ECHO", "0")),
            db_pool_size=int(env.get("YISHI_DB_POOL_SIZE", "10")),
            database_citus=_bool(env.get("YISHI_DATABASE_CITUS", "0")),
            password_hash=env.get("YISHI_PASSWORD_HASH", "default"),
            media_dir=env.get("YISHI_MEDIA_DIR", "./var/media"),
            media_url=env.get("YISHI_MEDIA_URL", ""),
            portal_domain=env.get("YISHI_PORTAL_DOMAIN", ""),
            audit_key=env.get("YISHI_AUDIT_KEY", ""),
            trusted_proxies=_networks(env.get("YISHI_TRUSTED_PROXIES", "")),
            public_url=env.get("YISHI_PUBLIC_URL", "http://127.0.0.1:8000"),
            smtp_url=env.get("YISHI_SMTP_URL", ""),
            sms_url=env.get("YISHI_SMS_URL", ""),
            sms_templates=env.get("YISHI_SMS_TEMPLATES", ""),
            worker_in_process=_bool(env["YISHI_WORKER_IN_PROCESS"]) if "YISHI_WORKER_IN_PROCESS" in env else None,
            jobs_stalled_seconds=int(env.get("YISHI_JOBS_STALLED_SECONDS", "30")),
        )
        settings.sms_template_codes  # noqa: B018 (a typo fails at start-up, not on the first message)
        if settings.env == "production" and settings.secret_key == DEV_SECRET_KEY:
            raise RuntimeError("YISHI_SECRET_KEY must be set in production")
        return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
