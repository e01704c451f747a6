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
