"""Tables of the Postgres stores. Alembic migrations under migrations/ create them."""

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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# One row per tenant: holds the tenant's current embedding model (the fence).
tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("embedding_model", String(200), nullable=False),
    # "trial" tenants get graph extraction off unless a switch turns it on.
    Column("plan", String(32), nullable=False, server_default="standard"),
    # An active tenant keeps its recall rows however long they go unretrieved.
    Column("active", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Append-only: nothing updates or deletes a message.
messages = Table(
    "messages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("token_estimate", Integer, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Each summary covers every message of its thread with id <= covers_through_message_id.
# A new summary supersedes the previous one; old summaries are kept for audit.
conversation_summaries = Table(
    "conversation_summaries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("covers_through_message_id", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("token_estimate", Integer, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# source_type "exchange" rows belong to an agent's thread; "document" rows belong to the
# tenant and carry their provenance (document name, chunk) instead.
recall_items = Table(
    "recall_items",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64)),
    Column("thread_id", String(64)),
    Column("source_type", String(32), nullable=False),
    Column("source_name", String(512)),
    Column("chunk_index", Integer),
    Column("text", Text, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_retrieved_at", DateTime(timezone=True)),
)

# One vector per (item, model): a model change adds rows beside the old ones, so the
# fence can switch atomically and roll back until the old vectors are cleaned up.
recall_embeddings = Table(
    "recall_embeddings",
    metadata,
    Column("item_id", BigInteger, ForeignKey("recall_items.id"), primary_key=True),
    Column("embedding_model", String(200), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    # Untyped: models of different dimensions live in one column, told apart by the fence.
    Column("embedding", Vector(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Path-routed documents (the notebook at /notebook.md, later skills under /skills/).
documents = Table(
    "documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    # A locked document (an operator's skill) is never rewritten by the agent's reflection.
    Column("locked", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "agent_id", "path", name="uq_documents_owner_path"),
)

document_versions = Table(
    "document_versions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("document_id", BigInteger, ForeignKey("documents.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("document_id", "version", name="uq_document_versions_version"),
)

# One row per completed (or failed) turn: what the model saw and what it cost.
turns = Table(
    "turns",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("user_message_id", BigInteger),
    Column("assistant_message_id", BigInteger),
    Column("manifest", JSONB, nullable=False),
    Column("usage", JSONB, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The agent definition version that answered; null for an agent never defined.
    Column("agent_version", Integer),
)

# The request id each user message was sent with, and how its turn ended: a client that
# lost its connection resends with the same id and gets this turn's answer (result, the
# reply as the caller saw it) or its error, in whichever run of the thread it arrives.
turn_requests = Table(
    "turn_requests",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
    Column("request_id", Text, nullable=False),
    Column("turn", Integer, nullable=False),
    # running, completed or failed
    Column("status", String(16), nullable=False, server_default="running"),
    Column("result", JSONB),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "agent_id", "thread_id", "request_id", name="uq_turn_requests_request"),
)

# Every model or embedding call, with the action that caused it, so memory-layer cost
# is accounted separately from the agent's own calls.
usage_ledger = Table(
    "usage_ledger",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64)),
    Column("thread_id", String(64)),
    Column("action", String(64), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("input_tokens", Integer, nullable=False, server_default="0"),
    Column("output_tokens", Integer, nullable=False, server_default="0"),
    Column("cache_read_input_tokens", Integer, nullable=False, server_default="0"),
    Column("cache_creation_input_tokens", Integer, nullable=False, server_default="0"),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Run-time switches, append-only: the newest row per (tenant_id, name) is in force, and
# the rows before it say who flipped what, when and why. tenant_id "*" is global.
switch_settings = Table(
    "switch_settings",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", JSONB, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Which gate decided each ingestion, once per ingestion request.
ingestion_decisions = Table(
    "ingestion_decisions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64)),
    Column("thread_id", String(64)),
    Column("turn", Integer),
    Column("source", String(32), nullable=False),
    Column("gate", String(64), nullable=False),
    Column("ingest", Boolean, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The graph's ingestion queue: episodes of one group are ingested one at a time in id
# order. The uuid is derived from the idempotency key, so a retry finds its own episode.
graph_episodes = Table(
    "graph_episodes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("group_id", String(64), nullable=False),
    Column("episode_uuid", String(64), nullable=False, unique=True),
    Column("source", String(32), nullable=False),
    Column("source_description", Text, nullable=False),
    Column("name", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("reference_time", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("error", Text),
    Column("result", JSONB),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ingested_at", DateTime(timezone=True)),
)

ingested_documents = Table(
    "ingested_documents",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("name", String(512), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("chars", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Episodic memory: one row per exchange, written in the background after the reply.
# Past the retention horizon the transcript is dropped and the summary kept.
episodes = Table(
    "episodes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("thread_id", String(64), nullable=False),
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
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("run_key", "tenant_id", name="uq_retention_runs_run_tenant"),
)

# Agent definitions: one row per saved version, never updated. The newest version of an
# agent is the one its next turn uses; mcp_tools is the tool list fetched when it was saved.
agent_definitions = Table(
    "agent_definitions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("mcp_tools", JSONB, nullable=False),
    Column("author", String(200), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "agent_id", "version", name="uq_agent_definitions_version"),
)
