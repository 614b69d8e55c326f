"""The tables. One row per thing a person would ask about.

Every row carries ``tenant_id``: isolation is a WHERE clause in each query, so
it is visible in code review. Timestamps are stored in UTC and read back as
aware datetimes on every backend (SQLite drops tzinfo; ``UTCDateTime`` restores it).
Every text column is a ``StoredString``: whatever text a message or a request
carries, the database can hold it (see ``storable``).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(at: datetime) -> str:
    """A time as every answer and event writes it: RFC 3339 in UTC with ``Z``
    (what pydantic writes for the API's models; microseconds only when there are
    any). A naive time is the database's UTC."""
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat() + "Z"


#: orjson options that write times as ``rfc3339`` does
ORJSON_TIMES = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def new_uid() -> str:
    return uuid.uuid4().hex


# What no database text column can take: U+0000 (PostgreSQL refuses it in text) and lone
# surrogates (no UTF-8 encoder writes them; Python makes them when it decodes bytes that
# are not UTF-8 with ``surrogateescape``, as aiosmtpd and the email parser do).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that surrogateescape kept: write the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code == 0 else f"\\u{code:04x}"


def storable(value: str) -> str:
    """``value`` as text every backend can hold: NUL as ``\\x00``, a byte that was not
    UTF-8 (a ``surrogateescape`` surrogate) as ``\\xNN``, another lone surrogate as
    ``\\uXXXX``.

    Why escape and not refuse: the text comes from a bounce (a Message-ID, a
    diagnostic, an envelope address) or an API request. Refused by the database,
    the insert would fail on every retry, and the sending MTA, told ``451``, would
    retry until it gives up and drops the bounce. Visible escapes keep the evidence
    readable; the raw message keeps the exact bytes.
    """
    if value.isascii():  # O(1) in CPython: no surrogate can be in it
        return value if "\x00" not in value else value.replace("\x00", "\\x00")
    if "\x00" not in value:
        try:  # text in other scripts: the UTF-8 encoder finds a surrogate faster than re
            value.encode()
            return value
        except UnicodeEncodeError:
            pass
    return _UNSTORABLE.sub(_visible, value)


# Row ids of the tables that grow with the mail: 64 bits on PostgreSQL (a 32-bit id runs
# out after about 25 days at 1,000 messages a second); on SQLite INTEGER is already 64
# bits, and only INTEGER PRIMARY KEY is the rowid that numbers rows by itself.
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class StoredString(TypeDecorator[str]):
    """A VARCHAR that takes any Python text: bound values pass through ``storable``.

    Here, at the type, rather than in each writer, because every path that binds
    text to a column goes through it: the SMTP ingest, the API's writes, and the
    lookups (a WHERE on an address with a NUL in it would fail on PostgreSQL just as
    the insert would). An escape lengthens the text, so an escaped value is cut to
    the column's length: the writers clip to it before, and an escape must not turn a
    value that fitted into one PostgreSQL refuses forever.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        # The fast path, for nearly every value: one flag read and one memchr.
        if value is None or (value.isascii() and "\x00" not in value):
            return value
        escaped = storable(value)
        length = self.length
        return escaped[:length] if length is not None and len(escaped) > length else escaped


class StoredText(StoredString):
    """A TEXT column (unbounded) with ``StoredString``'s escaping."""

    impl = sa.Text
    cache_ok = True


def text_field(length: int | None = None, **kw: Any) -> Any:
    """A SQLModel field for a text column: VARCHAR(length), or TEXT without a length."""
    column_type = StoredString(length) if length is not None else StoredText()
    return Field(max_length=length, sa_type=column_type, **kw)


class UTCDateTime(TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Tenant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(StoredString(100), unique=True, nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # Policy overrides as JSON (store.policy.Policy); empty means the documented defaults.
    policy: str = Field(
        default="{}", sa_column=sa.Column(StoredText(), nullable=False, server_default="{}")
    )


class ApiKey(SQLModel, table=True):
    """An API key: only a hash is kept; the key itself is shown once, at creation."""

    id: str = Field(sa_column=sa.Column(StoredString(32), primary_key=True))
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    secret_hash: str = text_field(64)
    scope: str = text_field(8)  # read | write
    name: str | None = text_field(200, default=None)
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class SigningKey(SQLModel, table=True):
    """Per-tenant secrets for signed return paths; the newest active one signs."""

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    key_id: int = Field(primary_key=True)
    secret: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    retire_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class SentCount(SQLModel, table=True):
    """How many messages the sending side says it sent: the denominator of the rates."""

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    day: str = text_field(10, primary_key=True)  # YYYY-MM-DD (UTC)
    stream: str = text_field(64, default="", primary_key=True)
    count: int = 0


class Domain(SQLModel, table=True):
    """A bounce domain: mail to any address at it belongs to the tenant."""

    domain: str = Field(sa_column=sa.Column(StoredString(255), primary_key=True))
    tenant_id: int = Field(foreign_key="tenant.id", index=True)


class Message(SQLModel, table=True):
    """A received message, raw, exactly as accepted (the evidence behind every event)."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)
    uid: str = Field(sa_column=sa.Column(StoredString(32), unique=True, nullable=False))
    tenant_id: int = Field(foreign_key="tenant.id")
    dedup_key: str = Field(sa_column=sa.Column(StoredString(64), nullable=False))
    received_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    peer: str | None = text_field(255, default=None)
    mail_from: str | None = text_field(1024, default=None)
    rcpt_tos: str = Field(default="", sa_column=sa.Column(StoredText(), nullable=False))
    size: int
    header_message_id: str | None = text_field(998, default=None)
    family: str = text_field(64)
    parse_error: str | None = Field(default=None, sa_column=sa.Column(StoredText()))
    raw: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    #: when the raw bytes were dropped (retention or erasure: store.retention); raw is then b""
    raw_purged_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "dedup_key", name="uq_message_dedup"),
        # only the rows still holding their bytes, oldest first: what a purge pass reads
        sa.Index(
            "ix_message_raw_kept",
            "received_at",
            "id",
            sqlite_where=sa.text("raw_purged_at IS NULL"),
            postgresql_where=sa.text("raw_purged_at IS NULL"),
        ),
    )


#: the stored lengths of an event's evidence (the parsers keep evidence within 200 characters;
#: a rule id is a few dozen)
DECIDED_BY_CHARS = 128
EVIDENCE_CHARS = 200
#: the stored lengths of what the policy did with an event (store.policy.Outcome, Why, and
#: Decision.why; the longest token is 26 characters, the longest words about 100)
EFFECT_CHARS = 16
EFFECT_REASON_CHARS = 32
EFFECT_DETAIL_CHARS = 200


class Event(SQLModel, table=True):
    """One finding about one recipient, as recorded. Never updated, never deleted."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)  # the feed cursor
    uid: str = Field(sa_column=sa.Column(StoredString(32), unique=True, nullable=False))
    tenant_id: int = Field(foreign_key="tenant.id")
    message_id: int = Field(foreign_key="message.id", index=True, sa_type=ROW_ID)
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    recipient: str | None = text_field(320, default=None)
    kind: str = text_field(32)
    reason: str = text_field(64)
    status: str | None = text_field(32, default=None)
    smtp_code: str | None = text_field(8, default=None)
    diagnostic: str | None = Field(default=None, sa_column=sa.Column(StoredText()))
    remote_mta: str | None = text_field(255, default=None)
    reporting_mta: str | None = text_field(255, default=None)
    feedback_type: str | None = text_field(64, default=None)
    original_message_id: str | None = text_field(998, default=None)
    family: str = text_field(64)
    stream: str | None = text_field(64, default=None)
    verified: bool = False
    #: the id of the rule row or family step that set kind and reason, and what it matched
    #: (parsers' Finding.decided_by / evidence; null on events recorded before 0004)
    decided_by: str | None = text_field(DECIDED_BY_CHARS, default=None)
    evidence: str | None = text_field(EVIDENCE_CHARS, default=None)
    #: what the suppression policy did with the finding (store.policy.Outcome), its stable
    #: reason (store.policy.Why) and the same in words, with the counts (null before 0006)
    effect: str | None = text_field(EFFECT_CHARS, default=None)
    effect_reason: str | None = text_field(EFFECT_REASON_CHARS, default=None)
    effect_detail: str | None = text_field(EFFECT_DETAIL_CHARS, default=None)

    __table_args__ = (
        sa.Index("ix_event_tenant_id", "tenant_id", "id"),
        sa.Index("ix_event_recipient", "tenant_id", "recipient", "created_at"),
    )


class Suppression(SQLModel, table=True):
    """An address the tenant must not mail (in one stream, or in all when stream is '')."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)
    tenant_id: int = Field(foreign_key="tenant.id")
    address: str = text_field(320)
    stream: str = text_field(64, default="")
    kind: str = text_field(32)
    reason: str = text_field(64)
    source: str = text_field(16, default="bounce")  # bounce | manual | import
    event_id: int | None = Field(default=None, foreign_key="event.id", sa_type=ROW_ID)
    verified: bool = False
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    note: str | None = text_field(1000, default=None)

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "address", "stream", name="uq_suppression_address"),
        sa.Index("ix_suppression_list", "tenant_id", "id"),
        # PostgreSQL only: the pre-send check probes by address alone (store.checks); a hash
        # probe costs about a third less than a descent of the text B-tree (measured).
        sa.Index("ix_suppression_address_hash", "address", postgresql_using="hash").ddl_if(
            dialect="postgresql"
        ),
        # the domain-wide suppressions (@example.com) alone: whether a tenant has any is
        # asked every two seconds by the checks (store.checks.SlicedChecks._special)
        sa.Index(
            "ix_suppression_domain",
            "tenant_id",
            sqlite_where=sa.text("address LIKE '@%'"),
            postgresql_where=sa.text("address LIKE '@%'"),
        ),
        # the suppressions of erased addresses (sha256:…, store.erase), likewise
        sa.Index(
            "ix_suppression_erased",
            "tenant_id",
            sqlite_where=sa.text("address LIKE 'sha256:%'"),
            postgresql_where=sa.text("address LIKE 'sha256:%'"),
        ),
    )


class SuppressionAudit(SQLModel, table=True):
    """Who added or removed what, when and why. Removal deletes no history."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    address: str = text_field(320)
    stream: str = text_field(64, default="")
    action: str = text_field(16)  # add | remove
    actor: str = text_field(64)  # "bounce", "key:<id>", "admin"
    kind: str | None = text_field(32, default=None)
    reason: str | None = text_field(1000, default=None)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class AddressState(SQLModel, table=True):
    """Per-address counters that policy needs (soft bounces since the last reset)."""

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    address: str = text_field(320, primary_key=True)
    soft_bounces: int = 0
    soft_reset_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    last_event_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class Outbox(SQLModel, table=True):
    """Events waiting for the broker's confirm (transactional outbox)."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)
    event_uid: str = text_field(32)
    routing_key: str = text_field(128)
    body: str = Field(sa_column=sa.Column(StoredText(), nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    attempts: int = 0

    __table_args__ = (sa.Index("ix_outbox_pending", "sent_at", "id"),)


# ---------------------------------------------------------------- webhooks (issue 12)


class WebhookEndpoint(SQLModel, table=True):
    """A tenant's HTTP receiver of events (returnpath.webhooks)."""

    id: str = Field(sa_column=sa.Column(StoredString(32), primary_key=True))
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    url: str = text_field(2048)
    kinds: str = text_field(400, default="")  # space-separated event kinds; "" is every kind
    description: str | None = text_field(1000, default=None)
    enabled: bool = True
    disabled_reason: str | None = text_field(200, default=None)
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # the first failure since the last success: three days of it disable the endpoint
    failing_since: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class WebhookSecret(SQLModel, table=True):
    """A signing secret; after a rotation the old one signs beside the new until it expires."""

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: str = Field(
        sa_column=sa.Column(
            StoredString(32),
            sa.ForeignKey("webhookendpoint.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    secret: str = text_field(100)  # whsec_ + base64: needed in clear to sign
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class WebhookDelivery(SQLModel, table=True):
    """One event owed to one endpoint: pending until a 2xx, failed after the retries."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)
    endpoint_id: str = Field(
        sa_column=sa.Column(
            StoredString(32),
            sa.ForeignKey("webhookendpoint.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    event_id: int = Field(foreign_key="event.id", sa_type=ROW_ID)
    event_uid: str = text_field(32)  # the webhook-id header
    state: str = text_field(16, default="pending")  # pending | delivered | failed
    attempts: int = 0
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # when the retries started (the first failure): the retry window counts from here
    first_failed_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    next_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))

    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhookdelivery_event"),
        sa.Index("ix_webhookdelivery_due", "endpoint_id", "state", "next_at"),
    )


class WebhookAttempt(SQLModel, table=True):
    """One HTTP try of a delivery, as the deliveries list shows it."""

    id: int | None = Field(default=None, primary_key=True, sa_type=ROW_ID)
    delivery_id: int = Field(
        sa_column=sa.Column(
            ROW_ID,
            sa.ForeignKey("webhookdelivery.id", ondelete="CASCADE"),
            index=True,
            nullable=False,
        )
    )
    endpoint_id: str = text_field(32)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    outcome: str = text_field(16)  # delivered | http_error | timeout | connection | refused
    latency_ms: int = 0
    response_code: int | None = None
    response_body: str | None = text_field(1024, default=None)  # the first 1 KB of the answer
    error: str | None = text_field(300, default=None)

    __table_args__ = (sa.Index("ix_webhookattempt_endpoint", "endpoint_id", "id"),)


class WebhookCursor(SQLModel, table=True):
    """How far the fan-out has read the event table (one row)."""

    name: str = Field(sa_column=sa.Column(StoredString(32), primary_key=True))
    event_id: int = Field(default=0, sa_type=ROW_ID)


class AllowlistEntry(SQLModel, table=True):
    """An address (``a@example.com``) or a whole domain (``@example.com``) never suppressed:
    its findings are recorded, the policy does not act on them (store.allowlist)."""

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    entry: str = Field(sa_column=sa.Column(StoredString(320), primary_key=True))
    note: str | None = text_field(1000, default=None)
    actor: str = text_field(64)
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
