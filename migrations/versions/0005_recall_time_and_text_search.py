"""Recall items: the time the remembered thing happened, and their lexemes (a stored
tsvector with a GIN index) for hybrid (lexical + vector) retrieval.

Existing rows take their insert time as their source time: it is the best that is known
of them. The text index is built concurrently so a large store stays writable.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recall_items", sa.Column("occurred_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE recall_items SET occurred_at = created_at WHERE occurred_at IS NULL")
    op.alter_column("recall_items", "occurred_at", nullable=False, server_default=sa.func.now())
    # Stored, not computed per query: BM25 reads every candidate's lexemes and counts.
    # Adding it rewrites the table once (minutes per few million rows, under a lock).
    op.execute(
        "ALTER TABLE recall_items ADD COLUMN text_search tsvector "
        "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
    )
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_recall_items_text_search "
            "ON recall_items USING gin (text_search)"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_recall_items_text_search")
    op.drop_column("recall_items", "text_search")
    op.drop_column("recall_items", "occurred_at")
