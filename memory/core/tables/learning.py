"""Learning from work: episodes and their vectors, tool calls, corrections, the session
cache's audit sample, codifications, retention runs and reflected lessons."""

from __future__ import annotations

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from memory.core.tables.base import metadata

# Episodic memory: one row per exchange, written in the background after the reply.
# Past the retention horizon the transcript is dropped and the summary kept.
episodes = Table(
    "episodes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    # The end user of the thread: private to that user. NULL: agent-wide.
    Column("user_id", String(64)),
    Column("turn", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("task_type", String(64), nullable=False, server_default="general"),
    # succeeded, failed or corrected
    Column("outcome", String(16), nullable=False),
    Column("tools_used", JSONB, nullable=False, server_default="[]"),
    Column("summary", Text, nullable=False),
    # zlib-compressed UTF-8 transcript; NULL once truncated by retention.
    Column("transcript", LargeBinary),
    Column("transcript_chars", Integer, nullable=False, server_default="0"),
    Column("truncated_at", DateTime(timezone=True)),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# One vector of an episode's summary per embedding model, like recall_embeddings: episodic
# search's vector leg reads only the tenant's current model (the fence).
episode_embeddings = Table(
    "episode_embeddings",
    metadata,
    Column("episode_id", BigInteger, ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True),
    Column("embedding_model", String(200), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("embedding", Vector(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# Every tool call the agent made, with its outcome: the audit trail of working memory's
# side effects, and what the session cache learns from.
tool_calls = Table(
    "tool_calls",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("call_id", String(200), nullable=False),
    Column("tool", String(64), nullable=False),
    Column("arguments", JSONB, nullable=False),
    # ok, failed, rejected or timed_out
    Column("status", String(16), nullable=False),
    Column("output", Text, nullable=False, server_default=""),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# Human corrections of a running conversation: "you tried X, do Y instead".
corrections = Table(
    "corrections",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    # The turn the correction applies to: the running one, or the next.
    Column("turn", Integer, nullable=False),
    Column("tried", Text, nullable=False),
    Column("instead", Text, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# A sampled fraction of session-cache hits, kept for a human to review.
session_cache_audit = Table(
    "session_cache_audit",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("context_hash", String(64), nullable=False),
    Column("command_key", Text, nullable=False),
    Column("tried", Text, nullable=False),
    Column("instead", Text, nullable=False),
    Column("source", String(32), nullable=False),
    # pending, approved or rejected
    Column("review_status", String(16), nullable=False, server_default="pending"),
    Column("reviewer", String(200)),
    Column("review_note", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# The explicit act that moves a session-cache entry into long-term memory.
codifications = Table(
    "codifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("command_key", Text, nullable=False),
    Column("tried", Text, nullable=False),
    Column("instead", Text, nullable=False),
    # "skill" or "notebook", and the document version written.
    Column("target", String(16), nullable=False),
    Column("path", String(512), nullable=False),
    Column("document_version_id", BigInteger, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# What each retention run removed, per tenant.
retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("run_key", String(300), nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("episodes_truncated", Integer, nullable=False, server_default="0"),
    Column("recall_items_pruned", Integer, nullable=False, server_default="0"),
    Column("skipped_active", Boolean, nullable=False, server_default="false"),
    # Rows removed from the other growing tables, by table name.
    Column("pruned", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("run_key", "tenant_id", name="uq_retention_runs_run_tenant"),
)


# Lessons reflection proposed; one reaches its skill (and so a prompt) only once an
# operator approves it.
skill_lessons = Table(
    "skill_lessons",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("task_type", String(64), nullable=False),
    Column("lesson", Text, nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("episode_id", BigInteger, nullable=False),
    # pending, approved or rejected
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("reviewer", String(200)),
    Column("review_note", Text),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("document_version_id", BigInteger),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
