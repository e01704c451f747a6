"""Tables of the Postgres stores, gathered from one module per layer (memory/core/tables/).
Alembic migrations under migrations/ create them."""

from __future__ import annotations

from memory.core.tables.base import metadata
from memory.core.tables.conversation import (
    conversation_summaries,
    messages,
    turn_requests,
    turns,
)
from memory.core.tables.documents import (
    document_versions,
    documents,
    ingested_documents,
)
from memory.core.tables.graph import (
    graph_episodes,
    ingestion_decisions,
)
from memory.core.tables.learning import (
    codifications,
    corrections,
    episode_embeddings,
    episodes,
    retention_runs,
    session_cache_audit,
    skill_lessons,
    tool_calls,
)
from memory.core.tables.recall import (
    recall_embeddings,
    recall_items,
)
from memory.core.tables.tenancy import (
    agent_definitions,
    forget_runs,
    plan_changes,
    switch_settings,
    tenant_data_keys,
    tenants,
    thread_users,
    usage_ledger,
)

__all__ = [
    "metadata",
    "agent_definitions",
    "codifications",
    "conversation_summaries",
    "corrections",
    "document_versions",
    "documents",
    "episode_embeddings",
    "episodes",
    "forget_runs",
    "graph_episodes",
    "ingested_documents",
    "ingestion_decisions",
    "messages",
    "plan_changes",
    "recall_embeddings",
    "recall_items",
    "retention_runs",
    "session_cache_audit",
    "skill_lessons",
    "switch_settings",
    "tenant_data_keys",
    "tenants",
    "thread_users",
    "tool_calls",
    "turn_requests",
    "turns",
    "usage_ledger",
]
