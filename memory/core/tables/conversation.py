"""Conversation memory: messages, summaries, turns and the request ids they answered."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from memory.core.tables.base import metadata

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
    Column("agent_version", Integer),
    Column("idempotency_key", String(300), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
