"""what the policy did with each event, and why: effect, effect_reason, effect_detail

Three nullable columns: events recorded before this revision keep NULL (what the policy
did with them then is not known: the policy and the address's state have changed since).
Adding a nullable column without a default rewrites no table on PostgreSQL or SQLite.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from returnpath.store.models import StoredString

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the lengths as of this revision (models.EFFECT_*_CHARS): a migration stays what it was
# when the models change
EFFECT_CHARS = 16
EFFECT_REASON_CHARS = 32
EFFECT_DETAIL_CHARS = 200


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("effect", StoredString(EFFECT_CHARS), nullable=True))
        batch.add_column(
            sa.Column("effect_reason", StoredString(EFFECT_REASON_CHARS), nullable=True)
        )
        batch.add_column(
            sa.Column("effect_detail", StoredString(EFFECT_DETAIL_CHARS), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_column("effect_detail")
        batch.drop_column("effect_reason")
        batch.drop_column("effect")
