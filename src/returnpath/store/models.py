"""The tables. One row per thing a person would ask about.

Every row carries ``tenant_id``: isolation is a WHERE clause in each query, so
it is visible in code review. Timestamps are stored in UTC and read back as
aware datetimes on every backend (SQLite drops tzinfo; ``UTCDateTime`` restores it).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uid() -> str:
    return uuid.uuid4().hex


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
    name: str = Field(sa_column=sa.Column(sa.String(100), unique=True, nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    # Policy overrides as JSON (store.policy.Policy); empty means the documented defaults.
    policy: str = Field(
        default="{}", sa_column=sa.Column(sa.Text, nullable=False, server_default="{}")
    )


class ApiKey(SQLModel, table=True):
    """An API key: only a hash is kept; the key itself is shown once, at creation."""

    id: str = Field(sa_column=sa.Column(sa.String(32), primary_key=True))
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    secret_hash: str = Field(max_length=64)
    scope: str = Field(max_length=8)  # read | write
    name: str | None = Field(default=None, max_length=200)
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
    day: str = Field(max_length=10, primary_key=True)  # YYYY-MM-DD (UTC)
    stream: str = Field(default="", max_length=64, primary_key=True)
    count: int = 0


class Domain(SQLModel, table=True):
    """A bounce domain: mail to any address at it belongs to the tenant."""

    domain: str = Field(sa_column=sa.Column(sa.String(255), primary_key=True))
    tenant_id: int = Field(foreign_key="tenant.id", index=True)


class Message(SQLModel, table=True):
    """A received message, raw, exactly as accepted (the evidence behind every event)."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(sa_column=sa.Column(sa.String(32), unique=True, nullable=False))
    tenant_id: int = Field(foreign_key="tenant.id")
    dedup_key: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    received_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    peer: str | None = Field(default=None, max_length=255)
    mail_from: str | None = Field(default=None, max_length=1024)
    rcpt_tos: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    size: int
    header_message_id: str | None = Field(default=None, max_length=998)
    family: str = Field(max_length=64)
    parse_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    raw: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))

    __table_args__ = (sa.UniqueConstraint("tenant_id", "dedup_key", name="uq_message_dedup"),)


class Event(SQLModel, table=True):
    """One finding about one recipient, as recorded. Never updated, never deleted."""

    id: int | None = Field(default=None, primary_key=True)  # the feed cursor
    uid: str = Field(sa_column=sa.Column(sa.String(32), unique=True, nullable=False))
    tenant_id: int = Field(foreign_key="tenant.id")
    message_id: int = Field(foreign_key="message.id", index=True)
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    recipient: str | None = Field(default=None, max_length=320)
    kind: str = Field(max_length=32)
    reason: str = Field(max_length=64)
    status: str | None = Field(default=None, max_length=32)
    smtp_code: str | None = Field(default=None, max_length=8)
    diagnostic: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    remote_mta: str | None = Field(default=None, max_length=255)
    reporting_mta: str | None = Field(default=None, max_length=255)
    feedback_type: str | None = Field(default=None, max_length=64)
    original_message_id: str | None = Field(default=None, max_length=998)
    family: str = Field(max_length=64)
    stream: str | None = Field(default=None, max_length=64)
    verified: bool = False

    __table_args__ = (
        sa.Index("ix_event_tenant_id", "tenant_id", "id"),
        sa.Index("ix_event_recipient", "tenant_id", "recipient", "created_at"),
    )


class Suppression(SQLModel, table=True):
    """An address the tenant must not mail (in one stream, or in all when stream is '')."""

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id")
    address: str = Field(max_length=320)
    stream: str = Field(default="", max_length=64)
    kind: str = Field(max_length=32)
    reason: str = Field(max_length=64)
    source: str = Field(default="bounce", max_length=16)  # bounce | manual | import
    event_id: int | None = Field(default=None, foreign_key="event.id")
    verified: bool = False
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    note: str | None = Field(default=None, max_length=1000)

    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "address", "stream", name="uq_suppression_address"),
        sa.Index("ix_suppression_list", "tenant_id", "id"),
        # PostgreSQL only: the pre-send check probes by address alone (store.checks); a hash
        # probe costs about a third less than a descent of the text B-tree (measured).
        sa.Index("ix_suppression_address_hash", "address", postgresql_using="hash").ddl_if(
            dialect="postgresql"
        ),
    )


class SuppressionAudit(SQLModel, table=True):
    """Who added or removed what, when and why. Removal deletes no history."""

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: int = Field(foreign_key="tenant.id", index=True)
    address: str = Field(max_length=320)
    stream: str = Field(default="", max_length=64)
    action: str = Field(max_length=16)  # add | remove
    actor: str = Field(max_length=64)  # "bounce", "key:<id>", "admin"
    kind: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))


class AddressState(SQLModel, table=True):
    """Per-address counters that policy needs (soft bounces since the last reset)."""

    tenant_id: int = Field(foreign_key="tenant.id", primary_key=True)
    address: str = Field(max_length=320, primary_key=True)
    soft_bounces: int = 0
    soft_reset_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    last_event_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))


class Outbox(SQLModel, table=True):
    """Events waiting for the broker's confirm (transactional outbox)."""

    id: int | None = Field(default=None, primary_key=True)
    event_uid: str = Field(max_length=32)
    routing_key: str = Field(max_length=128)
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime()))
    attempts: int = 0

    __table_args__ = (sa.Index("ix_outbox_pending", "sent_at", "id"),)
