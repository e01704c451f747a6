"""Episode embeddings: a vector of each episode's summary per embedding model, so episodic
search finds an episode by meaning as well as by its words.

Episodes recorded before this revision have no vector and are found by their words only.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "episode_embeddings",
        sa.Column(
            "episode_id", sa.BigInteger, sa.ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("embedding_model", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("embedding", Vector(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    # The vector leg scans one tenant's vectors of one model exactly: an agent has
    # thousands of episodes, not millions.
    op.create_index("ix_episode_embeddings_tenant_model", "episode_embeddings", ["tenant_id", "embedding_model"])


def downgrade() -> None:
    op.drop_index("ix_episode_embeddings_tenant_model", table_name="episode_embeddings")
    op.drop_table("episode_embeddings")
