"""One frozen Settings object, read from the environment and an optional `.env` file.

The variable names are the original spec's (AWS_*, RDS_*, JWT_*), plus Cloud Store's own.
Which backend is used is decided per backend: no RDS_HOST means the embedded PostgreSQL;
DynamoDB follows DYNAMODB_MODE (`auto`: no DYNAMODB_ENDPOINT and no AWS_ACCESS_KEY_ID means
the local DynamoDB endpoint; `aws`: AWS through the default credential chain; `local`: always
a local endpoint).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from email import policy as email_policy
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from psycopg.conninfo import make_conninfo

from cloudstore.domain.payments import (
    BANK_TRANSFER,
    DEFAULT_PAYMENT_WINDOW_SECONDS,
    MIDTRANS,
    MIN_PAYMENT_WINDOW_SECONDS,
    PROVIDERS,
    BankAccount,
    parse_bank_accounts,
)

_T = TypeVar("_T")

DEFAULT_CATEGORIES = ("compute", "storage", "database", "networking")
DYNAMODB_MODES = ("auto", "aws", "local")
# libpq's sslmode values (https://www.postgresql.org/docs/current/libpq-ssl.html).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# An example account: replace it with the shop's own (BANK_TRANSFER_ACCOUNTS).
DEFAULT_BANK_ACCOUNTS = "BCA 1234567890 a.n. PT Cloud Store"
MIDTRANS_SANDBOX_SNAP_URL = "https://app.sandbox.midtrans.com/snap/v1/transactions"
MIDTRANS_SANDBOX_API_URL = "https://api.sandbox.midtrans.com"
MEDIA_BACKENDS = ("local", "s3")
MAX_UPLOAD_CEILING = 50 * 1024 * 1024


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message is one line for operators."""


PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE_LIMIT = re.compile(r"^\s*(\d{1,9})\s*/\s*(\d{1,6})?\s*(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `count` events per `seconds` (a moving window), written `"N/period"`:
    `5/minute`, `10/hour`, `100/15 minutes`."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds} seconds"


def parse_rate_limit(name: str, raw: str | RateLimit) -> RateLimit:
    """`"N/period"` → RateLimit; anything else is a SettingsError naming the variable."""
    if isinstance(raw, RateLimit):
        return raw
    match = RATE_LIMIT.match(str(raw))
    if not match:
        raise SettingsError(
            f"{name} must look like 5/minute or 10/hour (N/second|minute|hour|day), got {raw!r}"
        )
    count, multiple, period = int(match[1]), int(match[2] or 1), match[3]
    if count < 1 or multiple < 1:
        raise SettingsError(f"{name} must allow at least 1 per period, got {raw!r}")
    return RateLimit(count, multiple * PERIOD_SECONDS[period])


# Issue 11: ten failed logins per account and per client, ten registrations per client, an hour.
DEFAULT_LOGIN_LIMIT = RateLimit(10, 3600)
DEFAULT_REGISTER_LIMIT = RateLimit(10, 3600)
# Password-reset requests: per client address (over it: 429), and per account (over it: the
# usual 202, but no more mail).
DEFAULT_RESET_LIMIT = RateLimit(10, 3600)
DEFAULT_RESET_EMAIL_LIMIT = RateLimit(3, 3600)
MAIL_BACKENDS = ("outbox", "ses", "smtp")
DEFAULT_MAIL_FROM = "Cloud Store <noreply@localhost>"


@dataclass(frozen=True, slots=True)
class Settings:
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    aws_region: str = "ap-southeast-1"

    rds_host: str | None = None
    rds_port: int = 5432
    rds_database: str = "ecommerce"
    rds_username: str = "postgres"
    rds_password: str | None = None
    # libpq sslmode for RDS_*; production: verify-full with the RDS CA bundle below.
    rds_sslmode: str = "prefer"
    rds_sslrootcert: str | None = None
    # Set by `cloudstore serve` for the embedded server (a libpq URI); wins over RDS_*.
    database_url: str | None = None

    jwt_secret_key: str | None = None
    jwt_expiry_hours: int = 24

    dynamodb_endpoint: str | None = None
    # auto: local unless DYNAMODB_ENDPOINT or AWS_ACCESS_KEY_ID is set; aws: the default AWS
    # credential chain (instance/task role, SSO, profile), never a local endpoint; local:
    # always a local endpoint (DYNAMODB_ENDPOINT, or one `serve` starts).
    dynamodb_mode: str = "auto"
    products_table: str = "Products"
    orders_table: str = "Orders"
    cart_table: str = "Cart"

    tax_rate: Decimal = Decimal("0.11")
    currency: str = "IDR"
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    data_dir: Path = field(default_factory=lambda: Path(".cloudstore"))

    # Seconds: how long a backend may take before we answer 503.
    backend_timeout: float = 3.0
    # Seconds between each worker's cheap check for catalog changes.
    catalog_refresh_seconds: float = 2.0
    # Seconds between each worker's full catalog reload (a backstop; changes arrive by log).
    catalog_full_reload_seconds: float = 300.0
    # How many bcrypt hashes may run at once per process.
    password_hash_concurrency: int = 2
    # bcrypt cost; 12 is about 0.25 s a hash here. Tests use a lower cost to stay fast.
    bcrypt_rounds: int = 12
    max_body_bytes: int = 1024 * 1024
    # The largest product image an admin may upload (bytes); only the upload routes take
    # bodies this large (plus room for the form's other fields), every other route 1 MB.
    max_upload_bytes: int = 5 * 1024 * 1024
    # Where product images are kept: "local" (the data dir; one instance) or "s3" (S3_BUCKET;
    # required when several instances serve one shop).
    media_backend: str = "local"
    s3_bucket: str | None = None
    # An S3-compatible endpoint (MinIO, a local stand-in); unset: AWS itself.
    s3_endpoint: str | None = None
    # Where browsers fetch product images from (a CDN in front of the bucket); unset: the
    # app serves them under /media/.
    media_base_url: str | None = None
    # Origins allowed to call the API from a browser on another site; empty = same origin only.
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    # Peers (IPs or CIDRs, or "*") whose X-Forwarded-For/-Proto we believe: the local nginx.
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    # Seconds browsers may cache a static file requested without its ?v=<hash>.
    static_max_age: int = 300
    # The admin's low-stock view lists products with at most this many in stock.
    low_stock_threshold: int = 5
    # The storefront's "Only N left" badge shows at this many in stock or fewer (a nudge for
    # shoppers, not the admin's reorder point above).
    low_stock_badge: int = 10
    # Failed logins per account, and per client address, before a 429 (a moving window).
    login_limit: RateLimit = DEFAULT_LOGIN_LIMIT
    # Failed logins per client address when it should differ from LOGIN_LIMIT (an office
    # behind one NAT address); None: LOGIN_LIMIT.
    login_ip_limit: RateLimit | None = None
    # Registration attempts per client address.
    register_limit: RateLimit = DEFAULT_REGISTER_LIMIT
    # Open (pending) orders a customer may hold at once: unpaid orders hold stock.
    max_pending_orders: int = 5
    # Password-reset requests per client address (429 past it) and per account (past it the
    # answer is the same 202, and nothing more is sent).
    reset_limit: RateLimit = DEFAULT_RESET_LIMIT
    reset_email_limit: RateLimit = DEFAULT_RESET_EMAIL_LIMIT
    # Mail: `outbox` (.eml files in <data dir>/outbox), `ses` (Amazon SES v2) or `smtp`.
    mail_backend: str = "outbox"
    mail_from: str = DEFAULT_MAIL_FROM
    # smtp://user:pass@host:587 (STARTTLS when offered) or smtps://user:pass@host:465.
    smtp_url: str | None = None
    # How orders are paid: `bank_transfer` (the zero-config one) or `midtrans`.
    payment_provider: str = BANK_TRANSFER
    # Accounts shoppers may transfer to, `;`-separated: `BANK NUMBER a.n. NAME`.
    bank_transfer_accounts: str = DEFAULT_BANK_ACCOUNTS
    # Seconds an order may stay unpaid before it expires (its stock goes back).
    payment_window_seconds: int = DEFAULT_PAYMENT_WINDOW_SECONDS
    # Seconds between each worker's sweeps for expired orders (0: no sweeping in this process).
    order_sweep_seconds: float = 60.0
    midtrans_server_key: str | None = None
    midtrans_snap_url: str = MIDTRANS_SANDBOX_SNAP_URL
    midtrans_api_url: str = MIDTRANS_SANDBOX_API_URL
    # The IANA zone every page and mail shows times in (they are stored in UTC).
    shop_timezone: str = "Asia/Jakarta"

    def __post_init__(self) -> None:
        # Overrides may give limits as text ("100/minute"), as the environment does.
        for name in (
            "login_limit",
            "login_ip_limit",
            "register_limit",
            "reset_limit",
            "reset_email_limit",
        ):
            value = getattr(self, name)
            if value is not None and not isinstance(value, RateLimit):
                object.__setattr__(self, name, parse_rate_limit(name.upper(), value))

    # The shop's one absolute base URL (https://shop.example.com): links in mail and payment
    # callbacks; the only host a redirect may name. Unset: redirects are relative.
    public_url: str | None = None

    @property
    def bank_accounts(self) -> tuple[BankAccount, ...]:
        """BANK_TRANSFER_ACCOUNTS, parsed (validated at startup)."""
        return parse_bank_accounts(self.bank_transfer_accounts)

    @property
    def login_client_limit(self) -> RateLimit:
        """Failed logins per client address: LOGIN_IP_LIMIT if set, else LOGIN_LIMIT."""
        return self.login_ip_limit or self.login_limit

    @property
    def embedded_postgres(self) -> bool:
        return not self.rds_host and not self.database_url

    @property
    def dynamodb_on_aws(self) -> bool:
        """DynamoDB is AWS's own (credentials from settings or the default AWS chain)."""
        if self.dynamodb_mode == "aws":
            return True
        if self.dynamodb_mode == "local":
            return False
        return bool(self.aws_access_key_id) and not self.dynamodb_endpoint

    @property
    def embedded_dynamodb(self) -> bool:
        """A local DynamoDB must be started (or found) for this data dir."""
        if self.dynamodb_mode == "aws":
            return False
        if self.dynamodb_mode == "local":
            return not self.dynamodb_endpoint
        return not self.dynamodb_endpoint and not self.aws_access_key_id

    @property
    def uses_real_backends(self) -> bool:
        """True when either backend is an operator's (RDS/AWS), not one we started."""
        return bool(self.rds_host) or self.dynamodb_on_aws

    def external_backends(self) -> tuple[str, ...]:
        """The backends this data dir's own `cloudstore serve` did not start: RDS, AWS, or a
        CLOUDSTORE_DATABASE_URL / DYNAMODB_ENDPOINT other than the ones it recorded in
        `<data dir>/runtime.json` (its workers get those through the environment)."""
        started = _started_by_serve(self.data_dir)
        external = []
        # CLOUDSTORE_DATABASE_URL wins over RDS_*; without it, RDS is always external.
        if not self.embedded_postgres and (
            not self.database_url or self.database_url != started.get("database_url")
        ):
            external.append("PostgreSQL")
        if not self.embedded_dynamodb and (
            not self.dynamodb_endpoint or self.dynamodb_endpoint != started.get("dynamodb_endpoint")
        ):
            external.append("DynamoDB")
        return tuple(external)

    @property
    def public_origin(self) -> str | None:
        """`scheme://host[:port]` of PUBLIC_URL, or None."""
        if not self.public_url:
            return None
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    def public_link(self, path: str) -> str:
        """An absolute link for mail and payment callbacks: PUBLIC_URL + an absolute path."""
        if not self.public_url:
            raise SettingsError("PUBLIC_URL must be set to make links for mail and payments")
        return self.public_url + "/" + path.lstrip("/")

    @property
    def link_base(self) -> str:
        """The base of links in mail: PUBLIC_URL, or the default address of `cloudstore
        serve` (only the outbox backend may run without PUBLIC_URL; see validate)."""
        return self.public_url or "http://localhost:5000"

    @property
    def outbox_dir(self) -> Path:
        """Where MAIL_BACKEND=outbox writes each message as an .eml file."""
        return self.data_dir / "outbox"

    def postgres_conninfo(self) -> str:
        if self.database_url:
            return self.database_url
        if not self.rds_host:
            raise SettingsError("RDS_HOST is not set and no embedded PostgreSQL is running")
        # make_conninfo quotes every value, so RDS_HOST may be a Unix-socket directory and a
        # password may hold any character.
        return make_conninfo(
            host=self.rds_host,
            port=self.rds_port,
            dbname=self.rds_database,
            user=self.rds_username,
            password=self.rds_password,
            sslmode=self.rds_sslmode,
            sslrootcert=self.rds_sslrootcert,
        )

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Read settings; real environment variables win over the `.env` file."""
        values: dict[str, str] = {}
        if env_file and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = values.get(name)
            return value.strip() if value and value.strip() else None

        def rate(name: str, default: _T) -> RateLimit | _T:
            raw = get(name)
            return default if raw is None else parse_rate_limit(name, raw)

        def number(name: str, kind: Callable[[str], _T], default: _T) -> _T:
            raw = get(name)
            if raw is None:
                return default
            try:
                return kind(raw)
            except (ValueError, InvalidOperation):
                raise SettingsError(f"{name} must be a number, got {raw!r}") from None

        categories = get("CATEGORIES")
        return cls(
            aws_access_key_id=get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=get("AWS_SECRET_ACCESS_KEY"),
            aws_session_token=get("AWS_SESSION_TOKEN"),
            aws_region=get("AWS_REGION") or "ap-southeast-1",
            rds_host=get("RDS_HOST"),
            rds_port=number("RDS_PORT", int, 5432),
            rds_database=get("RDS_DATABASE") or "ecommerce",
            rds_username=get("RDS_USERNAME") or "postgres",
            rds_password=get("RDS_PASSWORD"),
            rds_sslmode=(get("RDS_SSLMODE") or "prefer").lower(),
            rds_sslrootcert=get("RDS_SSLROOTCERT"),
            database_url=get("CLOUDSTORE_DATABASE_URL"),
            jwt_secret_key=get("JWT_SECRET_KEY"),
            jwt_expiry_hours=number("JWT_EXPIRY_HOURS", int, 24),
            dynamodb_endpoint=get("DYNAMODB_ENDPOINT"),
            dynamodb_mode=(get("DYNAMODB_MODE") or "auto").lower(),
            products_table=get("DYNAMODB_PRODUCTS_TABLE") or "Products",
            orders_table=get("DYNAMODB_ORDERS_TABLE") or "Orders",
            cart_table=get("DYNAMODB_CART_TABLE") or "Cart",
            tax_rate=number("TAX_RATE", Decimal, Decimal("0.11")),
            currency=get("CURRENCY") or "IDR",
            categories=tuple(c.strip().lower() for c in categories.split(",") if c.strip())
            if categories
            else DEFAULT_CATEGORIES,
            data_dir=Path(get("CLOUDSTORE_DATA_DIR") or ".cloudstore"),
            backend_timeout=number("BACKEND_TIMEOUT", float, 3.0),
            catalog_refresh_seconds=number("CATALOG_REFRESH_SECONDS", float, 2.0),
            catalog_full_reload_seconds=number("CATALOG_FULL_RELOAD_SECONDS", float, 300.0),
            password_hash_concurrency=number("PASSWORD_HASH_CONCURRENCY", int, 2),
            bcrypt_rounds=number("BCRYPT_ROUNDS", int, 12),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            cors_origins=tuple(
                o.strip().rstrip("/") for o in (get("CORS_ORIGINS") or "").split(",") if o.strip()
            ),
            forwarded_allow_ips=tuple(
                part.strip()
                for part in (get("FORWARDED_ALLOW_IPS") or "127.0.0.1,::1").split(",")
                if part.strip()
            ),
            static_max_age=number("STATIC_MAX_AGE", int, 300),
            low_stock_threshold=number("LOW_STOCK_THRESHOLD", int, 5),
            low_stock_badge=number("LOW_STOCK_BADGE", int, 10),
            login_limit=rate("LOGIN_LIMIT", DEFAULT_LOGIN_LIMIT),
            login_ip_limit=rate("LOGIN_IP_LIMIT", None),
            register_limit=rate("REGISTER_LIMIT", DEFAULT_REGISTER_LIMIT),
            public_url=(get("PUBLIC_URL") or "").rstrip("/") or None,
            max_pending_orders=number("MAX_PENDING_ORDERS", int, 5),
            reset_limit=rate("RESET_LIMIT", DEFAULT_RESET_LIMIT),
            reset_email_limit=rate("RESET_EMAIL_LIMIT", DEFAULT_RESET_EMAIL_LIMIT),
            mail_backend=(get("MAIL_BACKEND") or "outbox").lower(),
            mail_from=get("MAIL_FROM") or DEFAULT_MAIL_FROM,
            smtp_url=get("SMTP_URL"),
            payment_provider=(get("PAYMENT_PROVIDER") or BANK_TRANSFER).lower(),
            bank_transfer_accounts=get("BANK_TRANSFER_ACCOUNTS") or DEFAULT_BANK_ACCOUNTS,
            payment_window_seconds=number(
                "PAYMENT_WINDOW_SECONDS", int, DEFAULT_PAYMENT_WINDOW_SECONDS
            ),
            order_sweep_seconds=number("ORDER_SWEEP_SECONDS", float, 60.0),
            midtrans_server_key=get("MIDTRANS_SERVER_KEY"),
            midtrans_snap_url=get("MIDTRANS_SNAP_URL") or MIDTRANS_SANDBOX_SNAP_URL,
            midtrans_api_url=(get("MIDTRANS_API_URL") or MIDTRANS_SANDBOX_API_URL).rstrip("/"),
            shop_timezone=get("SHOP_TIMEZONE") or "Asia/Jakarta",
            max_upload_bytes=number("MAX_UPLOAD_BYTES", int, 5 * 1024 * 1024),
            media_backend=(get("MEDIA_BACKEND") or "local").lower(),
            s3_bucket=get("S3_BUCKET"),
            s3_endpoint=get("S3_ENDPOINT"),
            media_base_url=(get("MEDIA_BASE_URL") or "").rstrip("/") or None,
        )

    def validate(self) -> Settings:
        if self.jwt_expiry_hours <= 0:
            raise SettingsError("JWT_EXPIRY_HOURS must be a positive number of hours")
        if not (Decimal(0) <= self.tax_rate < Decimal(1)):
            raise SettingsError("TAX_RATE must be a fraction between 0 and 1, e.g. 0.11")
        if not 4 <= self.bcrypt_rounds <= 16:
            raise SettingsError("BCRYPT_ROUNDS must be between 4 and 16")
        if self.low_stock_threshold < 0:
            raise SettingsError("LOW_STOCK_THRESHOLD must be zero or more")
        if self.low_stock_badge < 0:
            raise SettingsError("LOW_STOCK_BADGE must be zero or more")
        if self.max_pending_orders < 1:
            raise SettingsError("MAX_PENDING_ORDERS must be at least 1")
        if not self.categories:
            raise SettingsError("CATEGORIES must name at least one category")
        if self.dynamodb_mode not in DYNAMODB_MODES:
            raise SettingsError(
                f"DYNAMODB_MODE must be auto, aws or local, got {self.dynamodb_mode!r}"
            )
        if self.rds_sslmode not in SSL_MODES:
            raise SettingsError(
                f"RDS_SSLMODE must be one of {', '.join(SSL_MODES)}, got {self.rds_sslmode!r}"
            )
        # "system" (libpq 16+) means the operating system's trusted CAs.
        root = self.rds_sslrootcert
        if root and root != "system" and not Path(root).is_file():
            raise SettingsError(
                f"RDS_SSLROOTCERT: no such file {root!r} (the RDS CA bundle, "
                "e.g. /etc/cloudstore/rds-global-bundle.pem)"
            )
        if not _known_time_zone(self.shop_timezone):
            raise SettingsError(
                f"SHOP_TIMEZONE must be an IANA time zone such as Asia/Jakarta, "
                f"got {self.shop_timezone!r}"
            )
        if not 64 * 1024 <= self.max_upload_bytes <= MAX_UPLOAD_CEILING:
            raise SettingsError(
                f"MAX_UPLOAD_BYTES must be between 65536 and {MAX_UPLOAD_CEILING} bytes"
            )
        if self.media_backend not in MEDIA_BACKENDS:
            raise SettingsError(f"MEDIA_BACKEND must be one of: {', '.join(MEDIA_BACKENDS)}")
        if self.media_backend == "s3" and not self.s3_bucket:
            raise SettingsError("MEDIA_BACKEND=s3 needs S3_BUCKET (the bucket's name)")
        if self.media_base_url:
            _check_base_url("MEDIA_BASE_URL", self.media_base_url, "https://cdn.example.com")
        for entry in self.forwarded_allow_ips:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise SettingsError(
                        f"FORWARDED_ALLOW_IPS: {entry!r} is not an IP address or network"
                    ) from None
        if self.public_url:
            _check_public_url(self.public_url)
        self._check_mail()
        self._validate_payments()
        external = () if self.jwt_secret_key else self.external_backends()
        if external:
            raise SettingsError(
                f"JWT_SECRET_KEY is required when {' and '.join(external)} is not one this "
                "data dir's `cloudstore serve` started (every instance must share one "
                "secret); generate one with "
                "python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return self

    def _check_mail(self) -> None:
        if self.mail_backend not in MAIL_BACKENDS:
            raise SettingsError(
                f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, got {self.mail_backend!r}"
            )
        sender = parse_mail_address(self.mail_from)
        if sender is None:
            raise SettingsError(
                f"MAIL_FROM must be one address, like Cloud Store <shop@example.com>, "
                f"got {self.mail_from!r}"
            )
        if self.mail_backend == "outbox":
            return
        if not self.public_url:
            raise SettingsError(
                f"PUBLIC_URL is required with MAIL_BACKEND={self.mail_backend}: mail links to it"
            )
        if self.mail_from == DEFAULT_MAIL_FROM:
            raise SettingsError(
                f"MAIL_FROM is required with MAIL_BACKEND={self.mail_backend} (an address "
                "your mail service accepts as sender)"
            )
        if self.mail_backend == "smtp":
            parse_smtp_url(self.smtp_url)

    def _validate_payments(self) -> None:
        if self.payment_provider not in PROVIDERS:
            raise SettingsError(
                f"PAYMENT_PROVIDER must be one of {', '.join(PROVIDERS)}, "
                f"got {self.payment_provider!r}"
            )
        try:
            accounts = self.bank_accounts
        except ValueError as error:
            raise SettingsError(f"BANK_TRANSFER_ACCOUNTS: {error}") from None
        if self.payment_provider == BANK_TRANSFER and not accounts:
            raise SettingsError("BANK_TRANSFER_ACCOUNTS must name at least one account")
        if self.payment_window_seconds < MIN_PAYMENT_WINDOW_SECONDS:
            raise SettingsError(
                f"PAYMENT_WINDOW_SECONDS must be at least {MIN_PAYMENT_WINDOW_SECONDS}"
            )
        if self.order_sweep_seconds < 0:
            raise SettingsError("ORDER_SWEEP_SECONDS must be zero (no sweeping) or more")
        for name in ("midtrans_snap_url", "midtrans_api_url"):
            parts = urlsplit(getattr(self, name))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise SettingsError(f"{name.upper()} must be an http(s) URL")
        if self.payment_provider == MIDTRANS:
            if not self.midtrans_server_key:
                raise SettingsError(
                    "PAYMENT_PROVIDER=midtrans needs MIDTRANS_SERVER_KEY (Midtrans dashboard: "
                    "Settings > Access Keys)"
                )
            if not self.public_url:
                raise SettingsError(
                    "PAYMENT_PROVIDER=midtrans needs PUBLIC_URL (Midtrans sends shoppers and "
                    "notifications back to it)"
                )


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """SMTP_URL taken apart: smtps:// is TLS from the start, smtp:// upgrades with STARTTLS
    when the server offers it."""

    host: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str | None) -> SmtpServer:
    """SMTP_URL (smtp://user:pass@host:587 or smtps://user:pass@host:465) → SmtpServer."""
    example = "like smtp://user:pass@mail.example.com:587 or smtps://user:pass@host:465"
    if not url:
        raise SettingsError(f"SMTP_URL is required with MAIL_BACKEND=smtp, {example}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(f"SMTP_URL must look {example}")
    use_tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if use_tls else 587),
        use_tls=use_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def parse_mail_address(text: str) -> tuple[str, str] | None:
    """`Name <addr@host>` or `addr@host` → (display name, address), or None when it is not
    exactly one address on one line."""
    if any(ch in text for ch in "\r\n\x00"):
        return None
    try:
        header = email_policy.default.header_factory("from", text)
        addresses = header.addresses
    except (ValueError, IndexError, TypeError):
        return None
    if header.defects or len(addresses) != 1:
        return None
    (address,) = addresses
    if not address.username or not address.domain:
        return None
    return address.display_name, address.addr_spec


def _known_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _check_base_url(name: str, url: str, example: str, what: str = "an address") -> None:
    """An http(s) origin or base path with no credentials, query, fragment, trailing slash or
    characters that would break out of a header or attribute."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username
        or parts.query
        or parts.fragment
        or url.endswith("/")
        or any(ch in url for ch in " \"'<>;,")
    ):
        raise SettingsError(f"{name} must be {what}, like {example}, got {url!r}")


def _check_public_url(url: str) -> None:
    _check_base_url("PUBLIC_URL", url, "https://shop.example.com", "the shop's address")


def _started_by_serve(data_dir: Path) -> dict:
    """The backends `cloudstore serve` recorded as its own in this data dir (`runtime.json`,
    written by `cloudstore.embedded`), or {}."""
    try:
        recorded = json.loads((data_dir / "runtime.json").read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}
