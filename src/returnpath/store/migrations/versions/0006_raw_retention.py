"""raw messages purged after the retention period: a mark and the index that finds them

``message.raw_purged_at`` says when the raw bytes were dropped (the row, its events and
suppressions stay: they are the history). The partial index holds only rows still
carrying their bytes, ordered by arrival, so each purge pass reads the oldest few
without walking the millions already purged (SQLite and PostgreSQL both take a WHERE
on an index).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from returnpath.store.models import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("raw_purged_at", UTCDateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_message_raw_kept",
        "message",
        ["received_at", "id"],
        sqlite_where=sa.text("raw_purged_at IS NULL"),
        postgresql_where=sa.text("raw_purged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_message_raw_kept", table_name="message")
    with op.batch_alter_table("message") as batch:
        batch.drop_column("raw_purged_at")
