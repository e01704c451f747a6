"""Initial schema: tenants, conversation, recall store, documents, turns, usage ledger.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _owner() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        _created_at(),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        *_owner(),
        sa.Column("turn", sa.Integer, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("token_estimate", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
    )
    op.create_index("ix_messages_thread", "messages", ["tenant_id", "agent_id", "thread_id", "id"])
    op.create_table(
        "conversation_summaries",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        *_owner(),
        sa.Column("covers_through_message_id", sa.BigInteger, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("token_estimate", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
    )
    op.create_index(
        "ix_conversation_summaries_thread",
        "conversation_summaries",
        ["tenant_id", "agent_id", "thread_id", "id"],
    )
    op.create_table(
        "recall_items",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        *_owner(),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
        sa.Column("last_retrieved_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_recall_items_owner", "recall_items", ["tenant_id", "agent_id"])
    op.create_table(
        "recall_embeddings",
        sa.Column("item_id", sa.BigInteger, sa.ForeignKey("recall_items.id"), primary_key=True),
        sa.Column("embedding_model", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("embedding", Vector(), nullable=False),
        _created_at(),
    )
    op.create_index("ix_recall_embeddings_fence", "recall_embeddings", ["tenant_id", "embedding_model"])
    op.create_table(
        "documents",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        _created_at(),
        sa.UniqueConstraint("tenant_id", "agent_id", "path", name="uq_documents_owner_path"),
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.BigInteger, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
        sa.UniqueConstraint("document_id", "version", name="uq_document_versions_version"),
    )
    op.create_table(
        "turns",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        *_owner(),
        sa.Column("turn", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_message_id", sa.BigInteger),
        sa.Column("assistant_message_id", sa.BigInteger),
        sa.Column("manifest", JSONB, nullable=False),
        sa.Column("usage", JSONB, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
    )
    op.create_index("ix_turns_thread", "turns", ["tenant_id", "agent_id", "thread_id", "turn"])
    op.create_table(
        "usage_ledger",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64)),
        sa.Column("thread_id", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cache_read_input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cache_creation_input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
        _created_at(),
    )
    op.create_index("ix_usage_ledger_tenant_action", "usage_ledger", ["tenant_id", "action"])


def downgrade() -> None:
    for table in (
        "usage_ledger",
        "turns",
        "document_versions",
        "documents",
        "recall_embeddings",
        "recall_items",
        "conversation_summaries",
        "messages",
        "tenants",
    ):
        op.drop_table(table)
