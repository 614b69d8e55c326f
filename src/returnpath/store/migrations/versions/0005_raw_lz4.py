"""raw messages compressed with lz4 on PostgreSQL (was pglz, the default)

A 4 KB bounce is TOASTed on insert; pglz cost the PostgreSQL backend about 0.05 ms of CPU
per message, lz4 about 0.02 ms, for the same stored size on DSNs (measured on 20,000
4 KB DSNs here; figures in bench/results/NOTES.md). On two shared cores at 1,000
messages a second the difference is 3 % of a core. Only rows written from now on are
compressed with lz4; older ones stay readable as they are. A PostgreSQL built without
lz4 keeps pglz (the statement is skipped with a notice). Nothing on SQLite.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        DO $$
        BEGIN
            ALTER TABLE message ALTER COLUMN raw SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
            RAISE NOTICE 'lz4 is not available in this PostgreSQL: raw messages stay pglz';
        END $$;
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE message ALTER COLUMN raw SET COMPRESSION pglz")
