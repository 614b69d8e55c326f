"""64-bit row ids on PostgreSQL for the tables that grow with the mail

A 32-bit serial id runs out after 2^31 rows: about 25 days of messages at
1,000 a second, and events and outbox rows sooner. SQLite's INTEGER is
already 64 bits: nothing to do there. On PostgreSQL each ALTER rewrites its
table once (a lock for the duration): run it before the tables are large.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, columns): every id of a table that grows with the mail, and every column
# referring to one.
COLUMNS = (
    ("message", ("id",)),
    ("event", ("id", "message_id")),
    ("suppression", ("id", "event_id")),
    ("suppressionaudit", ("id",)),
    ("outbox", ("id",)),
)


def _alter(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS:
        changes = ", ".join(f"ALTER COLUMN {column} TYPE {kind}" for column in columns)
        op.execute(f"ALTER TABLE {table} {changes}")
        op.execute(f"ALTER SEQUENCE {table}_id_seq AS {kind}")


def upgrade() -> None:
    _alter("bigint")


def downgrade() -> None:
    _alter("integer")
