"""Tenants and what the operators set for them: the embedding fence, plans, switches, the
usage ledger, agent definitions, end users, forget runs and payload data keys."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
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
    # The workflow that made the change: a retried activity writes its row once.
    Column("change_key", String(300), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# Who put a tenant on which plan, and why; the plan in force is tenants.plan.
plan_changes = Table(
    "plan_changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False, index=True),
    Column("plan", String(32), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("change_key", String(300), unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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


# The end user each thread belongs to, fixed by the thread's first message. A thread with
# no row is agent-wide.
thread_users = Table(
    "thread_users",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("agent_id", String(64), primary_key=True),
    Column("thread_id", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


# One row per forget request: who asked, when, the scope and what was erased, per layer.
# It names the tenant and user erased, and holds none of their content.
forget_runs = Table(
    "forget_runs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("forget_key", String(300), nullable=False, unique=True),
    Column("tenant_id", String(64), nullable=False),
    Column("user_id", String(64)),
    Column("operator", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("dry_run", Boolean, nullable=False, server_default="false"),
    Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
)


# Each tenant's payload data key, wrapped by the codec's key ring. Forgetting the tenant
# deletes the row, and with it every payload encrypted under the key (crypto-shredding).
tenant_data_keys = Table(
    "tenant_data_keys",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("wrapping_key_id", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
