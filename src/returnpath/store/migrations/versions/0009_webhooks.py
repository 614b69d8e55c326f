"""webhooks: endpoints, their signing secrets, deliveries and their attempts, the fan-out cursor

New tables only (issue 12); nothing existing is rewritten.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from returnpath.store.models import StoredString, UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhookendpoint",
        sa.Column("id", StoredString(32), primary_key=True),
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("url", StoredString(2048), nullable=False),
        sa.Column("kinds", StoredString(400), nullable=False),
        sa.Column("description", StoredString(1000), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", StoredString(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("failing_since", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_webhookendpoint_tenant_id", "webhookendpoint", ["tenant_id"])
    op.create_table(
        "webhooksecret",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "endpoint_id",
            StoredString(32),
            sa.ForeignKey("webhookendpoint.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("secret", StoredString(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_webhooksecret_endpoint_id", "webhooksecret", ["endpoint_id"])
    op.create_table(
        "webhookdelivery",
        sa.Column("id", ROW_ID, primary_key=True),
        sa.Column(
            "endpoint_id",
            StoredString(32),
            sa.ForeignKey("webhookendpoint.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event_id", ROW_ID, sa.ForeignKey("event.id"), nullable=False),
        sa.Column("event_uid", StoredString(32), nullable=False),
        sa.Column("state", StoredString(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("first_failed_at", UTCDateTime(), nullable=True),
        sa.Column("next_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhookdelivery_event"),
    )
    op.create_index(
        "ix_webhookdelivery_due", "webhookdelivery", ["endpoint_id", "state", "next_at"]
    )
    op.create_table(
        "webhookattempt",
        sa.Column("id", ROW_ID, primary_key=True),
        sa.Column(
            "delivery_id",
            ROW_ID,
            sa.ForeignKey("webhookdelivery.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("endpoint_id", StoredString(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("outcome", StoredString(16), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("response_body", StoredString(1024), nullable=True),
        sa.Column("error", StoredString(300), nullable=True),
    )
    op.create_index("ix_webhookattempt_delivery_id", "webhookattempt", ["delivery_id"])
    op.create_index("ix_webhookattempt_endpoint", "webhookattempt", ["endpoint_id", "id"])
    op.create_table(
        "webhookcursor",
        sa.Column("name", StoredString(32), primary_key=True),
        sa.Column("event_id", ROW_ID, nullable=False),
    )
    # The fan-out starts after the events recorded so far: they are not pushed (replay can).
    op.execute(
        "INSERT INTO webhookcursor (name, event_id) SELECT 'fanout', COALESCE(MAX(id), 0) FROM event"
    )


def downgrade() -> None:
    op.drop_table("webhookcursor")
    op.drop_table("webhookattempt")
    op.drop_table("webhookdelivery")
    op.drop_table("webhooksecret")
    op.drop_table("webhookendpoint")
