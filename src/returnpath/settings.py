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
        description=(
            "Where events, suppressions and raw messages are stored: sqlite:///path/to/file.db"
            " (embedded, one host) or postgresql://user:password@host/name (the async driver"
            " is chosen for you). The default is a file in the working directory: set an"
            " absolute path, or PostgreSQL for several hosts or more than one worker."
        ),
    )
    amqp_url: str = Field(
        default="",
        description=(
            "RabbitMQ URL (amqp://user:password@host:5672/vhost) events are published to;"
            " empty: no broker, consumers long-poll GET /v1/events instead. Set it when"
            " other services should react to bounces as they happen."
        ),
    )
    smtp_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address the SMTP listener binds. The default takes mail from this host only:"
            " set 0.0.0.0 (or :: for IPv6) when the bounce domain's MX points here."
        ),
    )
    smtp_port: int = Field(
        default=2525,
        json_schema_extra={"unit": "TCP port"},
        description=(
            "Port of the SMTP listener. Mail servers deliver to 25: set 25 (with the"
            " privilege to bind it), or keep 2525 behind a port redirect or a relay."
        ),
    )
    smtp_hostname: str = Field(
        default="",
        description=(
            "Name in the SMTP greeting and replies; empty: the host's FQDN. Set it to the"
            " name the MX record points at when the host's own name differs."
        ),
    )
    api_host: str = Field(
        default="127.0.0.1",
        description=(
            "Address the HTTP API (and the one-click /unsubscribe route) binds. Keep it"
            " local and publish only /unsubscribe through a reverse proxy."
        ),
    )
    api_port: int = Field(
        default=8025,
        json_schema_extra={"unit": "TCP port"},
        description="Port of the HTTP API. Change it when 8025 is taken.",
    )
    domains: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["bounces.localhost"],
        description=(
            "Comma-separated bounce domains of the default tenant: mail to any address at"
            " them is accepted, mail to other domains refused. Authoritative: a domain"
            " removed here is no longer accepted. Set it to your return-path domains."
        ),
    )
    max_message_size: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        json_schema_extra={"unit": "bytes"},
        description=(
            "Largest message accepted (announced with SIZE); larger get 552 5.3.4. A bounce"
            " quoting a large original may need more; lower it to bound the disk a sender"
            " can fill."
        ),
    )
    api_key: str = Field(
        default="",
        description=(
            "The admin API key: always accepted, acts on the default tenant and the admin"
            " routes. Empty: one is generated and printed at start. Set it (from a secret"
            " store) so that it survives a restart."
        ),
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto",
        description=(
            "json (one object a line, for log collectors), console (for people), or auto:"
            " console on a terminal, json otherwise."
        ),
    )
    log_level: str = Field(
        default="info",
        description=(
            "Least severe level written: debug, info, warning, error. info writes one line"
            " per message recorded; set warning on busy hosts to keep only what needs"
            " attention."
        ),
    )
    exchange: str = Field(
        default="returnpath.events",
        description=(
            "Topic exchange events are published to (routing key <kind>.<reason>). Change"
            " it to run two installations on one RabbitMQ virtual host."
        ),
    )
    shutdown_grace: float = Field(
        default=10.0,
        ge=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "On SIGTERM, how long SMTP transactions in flight may finish before the"
            " connections are closed. Raise it when large messages are often cut off by"
            " restarts; keep it below your supervisor's stop timeout."
        ),
    )
    sqlite_busy_timeout: float = Field(
        default=30.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "How long a write waits for the SQLite lock before failing (the stage then"
            " retries the group). Only SQLite; raise it if admin commands and the stage"
            " contend on a slow disk."
        ),
    )
    smtp_max_connections: int = Field(
        default=1000,
        gt=0,
        json_schema_extra={"unit": "connections"},
        description=(
            "Concurrent SMTP sessions per process; more get 421 4.7.0 and retry later."
            " Lower it on a small host; raise it only with the file-descriptor limit."
        ),
    )
    tls_cert: str = Field(
        default="",
        description=(
            "Path of a PEM certificate chain; when set (with RETURNPATH_TLS_KEY), the"
            " listener offers STARTTLS. Set it when the MX faces the internet: most"
            " senders prefer or require TLS."
        ),
    )
    tls_key: str = Field(
        default="",
        description="Path of the PEM private key of RETURNPATH_TLS_CERT.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        json_schema_extra={"unit": "processes"},
        description=(
            "Processes sharing the SMTP and API ports (SO_REUSEPORT). One per core when"
            " one process's SMTP or API throughput is not enough; best on PostgreSQL."
        ),
    )
    worker_index: int = Field(
        default=0,
        ge=0,
        description=(
            "Internal: set by serve for the worker processes it starts (0 is the first)."
            " Do not set it."
        ),
    )
    smtp_timeout: float = Field(
        default=300.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "An SMTP connection idle this long is closed (RFC 5321 suggests 5 minutes)."
            " Lower it when idle connections exhaust RETURNPATH_SMTP_MAX_CONNECTIONS."
        ),
    )
    # the accept path: spool, then stage (issue 16)
    spool_dir: str = Field(
        default="",
        description=(
            "Where accepted messages wait for the stage; empty: beside the SQLite file"
            " (returnpath.db -> returnpath.spool), or ./returnpath.spool on PostgreSQL."
            " Put it on a local disk whose fdatasync is honest: a 250 means it is there."
        ),
    )
    spool_max_backlog_mb: int = Field(
        default=256,
        gt=0,
        json_schema_extra={"unit": "megabytes"},
        description=(
            "How far the stage may fall behind (spooled, not yet recorded) before SMTP"
            " answers 451 4.3.2 and senders retry later. Raise it to ride out longer"
            " database outages, within the spool disk's free space."
        ),
    )
    stage: Literal["process", "inline"] = Field(
        default="process",
        description=(
            "process: messages are recorded in a child process of serve (a second core);"
            " inline: in serve's own event loop (one core, lower throughput)."
        ),
    )
    # edge limits (issue 16)
    db_timeout: float = Field(
        default=5.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "How long any wait on the database may last (connecting, a pooled connection,"
            " a statement, a whole write transaction); then the store counts as"
            " unavailable (API 503, the stage retries). Raise it for a remote database"
            " with slow failovers."
        ),
    )
    api_body_timeout: float = Field(
        default=30.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "How long an API request body may stall before 408. Raise it for imports over"
            " slow links."
        ),
    )
    api_max_concurrency: int = Field(
        default=500,
        gt=0,
        json_schema_extra={"unit": "requests"},
        description=(
            "Concurrent API connections and requests per process (uvicorn's"
            " limit_concurrency); more get 503. Lower it to protect a small database."
        ),
    )
    smtp_max_connections_per_peer: int = Field(
        default=20,
        gt=0,
        json_schema_extra={"unit": "connections"},
        description=(
            "Concurrent SMTP sessions from one IP address; more get 421 4.7.0. Raise it"
            " when one relay of yours forwards all bounces over many connections."
        ),
    )
    # relay (issue 16)
    relay_linger: float = Field(
        default=0.1,
        ge=0,
        le=10,
        json_schema_extra={"unit": "seconds"},
        description=(
            "How long an event may wait to share a publish batch with later ones. Lower"
            " for less delay, raise for fewer broker round trips."
        ),
    )
    relay_batch_size: int = Field(
        default=500,
        gt=0,
        le=10_000,
        json_schema_extra={"unit": "events"},
        description=(
            "Events published (and confirmed) together; a full batch goes at once."
            " Rarely needs changing."
        ),
    )
    relay_broker_timeout: float = Field(
        default=10.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "Bound on each broker connect, batch confirm and close; then the relay"
            " reconnects and the events wait in the outbox. Raise it for a distant broker."
        ),
    )
    relay_backoff_max: float = Field(
        default=30.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "Longest pause between broker connection attempts (the back-off starts at 1 s,"
            " with jitter). Lower it for faster recovery, raise it to be gentler on a"
            " struggling broker."
        ),
    )
    # retention (issue 14)
    raw_retention_days: int = Field(
        default=90,
        ge=0,
        json_schema_extra={"unit": "days"},
        description=(
            "How long a received message's raw bytes are kept; then serve (or"
            " `returnpath purge`) empties them, and the events, suppressions and audit stay."
            " 0 keeps them for ever. Shorten it for data protection, lengthen it to re-read"
            " older mail with better rules."
        ),
    )
    raw_purge_interval: float = Field(
        default=3600.0,
        gt=0,
        json_schema_extra={"unit": "seconds"},
        description=(
            "Time between serve's passes of the raw-message purge (the first runs at"
            " start). Rarely needs changing."
        ),
    )
    # webhooks (issue 12)
    webhook_allow_private: bool = Field(
        default=False,
        description=(
            "Deliver webhooks to private, loopback and link-local addresses. Off, a URL"
            " whose host resolves to one is refused at every delivery (SSRF: a tenant could"
            " otherwise make serve call your internal services). Turn it on only for"
            " on-premise consumers you trust, and for tests."
        ),
    )
    webhook_timeout: float = Field(
        default=10.0,
        gt=0,
        le=60,
        json_schema_extra={"unit": "seconds"},
        description=(
            "How long one webhook delivery may take (connect, send, answer); then it counts"
            " as failed and is retried. Raise it for slow receivers."
        ),
    )
    webhook_retry_base: float = Field(
        default=20.0,
        gt=0,
        le=60,
        json_schema_extra={"unit": "seconds"},
        description=(
            "The first retry's wait (jittered to half or all of it); each next wait is four"
            " times longer, up to 4 hours. Rarely needs changing."
        ),
    )
    webhook_retry_hours: float = Field(
        default=26.0,
        gt=0,
        json_schema_extra={"unit": "hours"},
        description=(
            "How long a failing delivery is retried before it is marked failed (an endpoint"
            " failing for 3 days is disabled). Raise it to ride out longer outages."
        ),
    )
    webhook_concurrency: int = Field(
        default=8,
        gt=0,
        le=256,
        json_schema_extra={"unit": "deliveries"},
        description=(
            "Deliveries in flight to one endpoint at a time, per serve process; a slow"
            " endpoint holds only its own. Raise it for a fast receiver with a large backlog."
        ),
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
