"""Learning from work: episodes, tool calls, corrections, session-cache audit,
codifications, retention runs; skill locks and active tenants.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True)


def _owner() -> list[sa.Column]:
    return [
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
    ]


def _key() -> sa.Column:
    return sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.add_column("tenants", sa.Column("active", sa.Boolean, nullable=False, server_default="false"))
    op.add_column("documents", sa.Column("locked", sa.Boolean, nullable=False, server_default="false"))

    op.create_table(
        "episodes",
        _id(),
        *_owner(),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_type", sa.String(64), nullable=False, server_default="general"),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("tools_used", JSONB, nullable=False, server_default="[]"),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("transcript", sa.LargeBinary),
        sa.Column("transcript_chars", sa.Integer, nullable=False, server_default="0"),
        sa.Column("truncated_at", sa.DateTime(timezone=True)),
        _key(),
        _created_at(),
    )
    op.create_index("ix_episodes_agent_time", "episodes", ["tenant_id", "agent_id", "occurred_at"])
    op.create_index("ix_episodes_thread_time", "episodes", ["tenant_id", "thread_id", "occurred_at"])
    op.execute("CREATE INDEX ix_episodes_summary_fts ON episodes USING gin (to_tsvector('english', summary))")

    op.create_table(
        "tool_calls",
        _id(),
        *_owner(),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer, nullable=False),
        sa.Column("call_id", sa.String(200), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("arguments", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("output", sa.Text, nullable=False, server_default=""),
        _key(),
        _created_at(),
    )
    op.create_index("ix_tool_calls_thread", "tool_calls", ["tenant_id", "agent_id", "thread_id", "turn"])

    op.create_table(
        "corrections",
        _id(),
        *_owner(),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer, nullable=False),
        sa.Column("tried", sa.Text, nullable=False),
        sa.Column("instead", sa.Text, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        _key(),
        _created_at(),
    )
    op.create_index("ix_corrections_thread", "corrections", ["tenant_id", "agent_id", "thread_id", "turn"])

    op.create_table(
        "session_cache_audit",
        _id(),
        *_owner(),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("context_hash", sa.String(64), nullable=False),
        sa.Column("command_key", sa.Text, nullable=False),
        sa.Column("tried", sa.Text, nullable=False),
        sa.Column("instead", sa.Text, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("reviewer", sa.String(200)),
        sa.Column("review_note", sa.Text),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        _created_at(),
    )
    op.create_index("ix_session_cache_audit_review", "session_cache_audit", ["review_status", "tenant_id", "id"])

    op.create_table(
        "codifications",
        _id(),
        *_owner(),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("command_key", sa.Text, nullable=False),
        sa.Column("tried", sa.Text, nullable=False),
        sa.Column("instead", sa.Text, nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("document_version_id", sa.BigInteger, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        _key(),
        _created_at(),
    )

    op.create_table(
        "retention_runs",
        _id(),
        sa.Column("run_key", sa.String(300), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("episodes_truncated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("recall_items_pruned", sa.Integer, nullable=False, server_default="0"),
        sa.Column("skipped_active", sa.Boolean, nullable=False, server_default="false"),
        _created_at(),
        sa.UniqueConstraint("run_key", "tenant_id", name="uq_retention_runs_run_tenant"),
    )
    op.create_index("ix_recall_items_retrieval_age", "recall_items", ["tenant_id", "last_retrieved_at"])


def downgrade() -> None:
    op.drop_index("ix_recall_items_retrieval_age", "recall_items")
    for table in ("retention_runs", "codifications", "session_cache_audit", "corrections", "tool_calls", "episodes"):
        op.drop_table(table)
    op.drop_column("documents", "locked")
    op.drop_column("tenants", "active")
