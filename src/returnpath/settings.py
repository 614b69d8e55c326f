"""All configuration, from ``RETURNPATH_*`` environment variables (or a .env file).

The names are a contract with operators' scripts: keep them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: the URL schemes of the two stores (``database_url_async`` picks the async driver)
DATABASE_SCHEMES = frozenset(
    {"sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg"}
)
#: settings whose value is a secret or may carry one: never echoed in an error message
_SECRET = frozenset({"api_key", "database_url", "amqp_url"})


def check_database_url(value: str) -> str:
    """The URL if it names one of the two stores; else ValueError saying what is accepted."""
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in DATABASE_SCHEMES:
        what = f"unsupported database URL scheme {scheme!r}" if scheme else "not a URL"
        raise ValueError(
            f"{what}; accepted: sqlite:///path/to/file.db (embedded)"
            " or postgresql://user:password@host/name"
        )
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETURNPATH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./returnpath.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    amqp_url: str = Field(default="", description="RabbitMQ URL; empty disables publishing")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_hostname: str = Field(default="", description="name in the SMTP greeting")
    api_host: str = "127.0.0.1"
    api_port: int = 8025
    domains: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["bounces.localhost"],
        description="comma-separated recipient domains of the default tenant",
    )
    max_message_size: int = Field(default=10 * 1024 * 1024, gt=0)
    api_key: str = Field(
        default="", description="admin API key; empty: one is generated and printed"
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "info"
    exchange: str = "returnpath.events"
    shutdown_grace: float = Field(default=10.0, ge=0, description="seconds for in-flight SMTP")
    sqlite_busy_timeout: float = Field(
        default=30.0, gt=0, description="seconds a write waits for the SQLite lock"
    )
    smtp_max_connections: int = Field(
        default=1000, gt=0, description="concurrent SMTP sessions; more get 421"
    )
    tls_cert: str = Field(default="", description="PEM certificate chain: offer STARTTLS when set")
    tls_key: str = Field(default="", description="PEM private key for tls_cert")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="processes sharing the SMTP and API ports (SO_REUSEPORT)",
    )
    worker_index: int = Field(default=0, ge=0, description="set by serve for its worker processes")
    smtp_timeout: float = Field(default=300.0, gt=0, description="idle SMTP connection timeout")
    # the accept path: spool, then stage (issue 16)
    spool_dir: str = Field(
        default="",
        description=(
            "where accepted messages wait for the stage; empty: beside the SQLite file"
            " (returnpath.db -> returnpath.spool), or ./returnpath.spool on PostgreSQL"
        ),
    )
    spool_max_backlog_mb: int = Field(
        default=256,
        gt=0,
        description="spooled megabytes the stage may fall behind before SMTP answers 451 4.3.2",
    )
    stage: Literal["process", "inline"] = Field(
        default="process",
        description="record spooled messages in a process of their own, or in serve's loop",
    )
    # edge limits (issue 16)
    db_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "seconds any wait on the database may last (connecting, a pooled connection,"
            " a statement, a whole write transaction); then the store counts as unavailable"
        ),
    )
    api_body_timeout: float = Field(
        default=30.0, gt=0, description="seconds an API request body may stall; then 408"
    )
    api_max_concurrency: int = Field(
        default=500, gt=0, description="concurrent API connections and requests; more get 503"
    )
    smtp_max_connections_per_peer: int = Field(
        default=20, gt=0, description="concurrent SMTP sessions from one IP address; more get 421"
    )
    # relay (issue 16)
    relay_linger: float = Field(
        default=0.1, ge=0, le=10, description="seconds an event may wait to share a publish batch"
    )
    relay_batch_size: int = Field(default=500, gt=0, le=10_000, description="events per batch")
    relay_broker_timeout: float = Field(
        default=10.0, gt=0, description="bound on each broker connect, batch confirm and close"
    )
    relay_backoff_max: float = Field(
        default=30.0, gt=0, description="longest pause between broker connection attempts"
    )
    # webhooks (issue 12)
    webhook_allow_private: bool = Field(
        default=False,
        description="deliver webhooks to private, loopback and link-local addresses (SSRF risk)",
    )
    webhook_timeout: float = Field(
        default=10.0, gt=0, le=60, description="seconds one webhook delivery may take"
    )
    webhook_retry_base: float = Field(
        default=20.0, gt=0, le=60, description="seconds before the first webhook retry (jittered)"
    )
    webhook_retry_hours: float = Field(
        default=26.0, gt=0, description="hours a webhook delivery is retried before it fails"
    )
    webhook_concurrency: int = Field(
        default=8, gt=0, le=256, description="concurrent deliveries to one webhook endpoint"
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        return check_database_url(value)

    @field_validator("domains", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [d.strip().lower().rstrip(".") for d in value.split(",") if d.strip()]
        return value

    @property
    def spool_root(self) -> Path:
        if self.spool_dir:
            return Path(self.spool_dir)
        url = self.database_url_async
        if url.startswith("sqlite+aiosqlite:///"):
            database = url.removeprefix("sqlite+aiosqlite:///").split("?", 1)[0]
            if database and database != ":memory:":
                return Path(database).with_suffix(".spool")
        return Path("returnpath.spool")

    @property
    def database_url_async(self) -> str:
        """Accept the plain URLs operators type and pick the async driver ourselves."""
        url = self.database_url
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url


def describe_invalid(exc: ValidationError) -> str:
    """One line naming each invalid ``RETURNPATH_*`` variable and what it accepts.

    pydantic's own text spans lines and names the field, not the variable an
    operator sets. Values of secret settings are not repeated.
    """
    prefix = Settings.model_config.get("env_prefix", "")
    parts = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        name = f"{prefix}{field}".upper()
        if field in _SECRET or "input" not in error:
            parts.append(f"{name}: {message}")
        else:
            parts.append(f"{name}={error['input']!r}: {message}")
    return "invalid setting " + "; ".join(parts)
