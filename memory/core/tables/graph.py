"""The knowledge graph's ingestion bookkeeping: gate decisions and the episode queue."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from memory.core.tables.base import metadata

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
