"""the evidence behind each event: decided_by (the rule row or family step) and evidence

Two nullable columns: events recorded before this revision keep NULL (their raw
messages are kept, so a later re-parse could fill them). Adding a nullable column without
a default rewrites no table on PostgreSQL or SQLite.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from returnpath.store.models import StoredString

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the lengths as of this revision (models.DECIDED_BY_CHARS, EVIDENCE_CHARS): a migration
# stays what it was when the models change
DECIDED_BY_CHARS = 128
EVIDENCE_CHARS = 200


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("decided_by", StoredString(DECIDED_BY_CHARS), nullable=True))
        batch.add_column(sa.Column("evidence", StoredString(EVIDENCE_CHARS), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("evidence")
        batch.drop_column("decided_by")
