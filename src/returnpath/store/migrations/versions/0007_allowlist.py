"""the allowlist, and the indexes of domain-wide and erased suppressions

The allowlist: addresses and domains whose findings never suppress (store.allowlist).
The partial indexes hold the domain-wide suppressions (``@example.com``) and those of
erased addresses (``sha256:…``) alone, so the checks' "has this tenant any?" is one
probe of a small index each (store.checks).

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

    op.create_index(
        "ix_suppression_domain",
        "suppression",
        ["tenant_id"],
        sqlite_where=sa.text("address LIKE '@%'"),
        postgresql_where=sa.text("address LIKE '@%'"),
    )
    op.create_index(
        "ix_suppression_erased",
        "suppression",
        ["tenant_id"],
        sqlite_where=sa.text("address LIKE 'sha256:%'"),
        postgresql_where=sa.text("address LIKE 'sha256:%'"),
    )


def downgrade() -> None:
    op.drop_index("ix_suppression_erased", table_name="suppression")
    op.drop_index("ix_suppression_domain", table_name="suppression")
    op.drop_table("allowlistentry")
