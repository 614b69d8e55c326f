"""the allowlist: addresses and domains whose findings never suppress

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from returnpath.store.models import StoredString, UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allowlistentry",
        sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenant.id"), primary_key=True),
        sa.Column("entry", StoredString(320), primary_key=True),
        sa.Column("note", StoredString(1000), nullable=True),
        sa.Column("actor", StoredString(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("allowlistentry")
