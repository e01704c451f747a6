"""Knowledge graph layer: tenant plans, run-time switches, ingestion decisions, the graph
episode queue, and document provenance on recall items.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.add_column("tenants", sa.Column("plan", sa.String(32), nullable=False, server_default="standard"))

    # Document chunks belong to the tenant, not to an agent's thread.
    op.alter_column("recall_items", "agent_id", nullable=True)
    op.alter_column("recall_items", "thread_id", nullable=True)
    op.add_column("recall_items", sa.Column("source_name", sa.String(512)))
    op.add_column("recall_items", sa.Column("chunk_index", sa.Integer))

    op.create_table(
        "switch_settings",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        _created_at(),
    )
    op.create_index("ix_switch_settings_lookup", "switch_settings", ["tenant_id", "name", "id"])

    op.create_table(
        "ingestion_decisions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("thread_id", sa.String(64)),
        sa.Column("turn", sa.Integer),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("gate", sa.String(64), nullable=False),
        sa.Column("ingest", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
    )
    op.create_index("ix_ingestion_decisions_tenant", "ingestion_decisions", ["tenant_id", "gate"])

    op.create_table(
        "graph_episodes",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("episode_uuid", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_description", sa.Text, nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("reference_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("error", sa.Text),
        sa.Column("result", JSONB),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
        sa.Column("ingested_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_graph_episodes_queue", "graph_episodes", ["group_id", "status", "id"])

    op.create_table(
        "ingested_documents",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("chars", sa.Integer, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
    )


def downgrade() -> None:
    op.drop_table("ingested_documents")
    op.drop_table("graph_episodes")
    op.drop_table("ingestion_decisions")
    op.drop_table("switch_settings")
    op.drop_column("recall_items", "chunk_index")
    op.drop_column("recall_items", "source_name")
    op.drop_column("tenants", "plan")
