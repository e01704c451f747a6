"""Every Postgres row a forget erases, table by table.

One user: the rows of the user's threads in every table keyed by thread (messages,
summaries, turns and their requests, tool calls, corrections, ingestion decisions, reflected
lessons, the session cache's audit and codify records), the user's recall items with their
vectors, episodes and graph queue, and the thread bindings. A tenant: every row of the
tenant in every table. Kept: the usage ledger (totals for billing; it holds no text) and
the forget audit itself. The notebook, skills and documents are the agent's, not a user's:
a user forget leaves them.
"""

from __future__ import annotations

from typing import Callable

from sqlalchemy import (
    Table,
    and_,
    column,
    delete,
    false,
    func,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from memory.core.refs import ThreadRef
from memory.core.schema import (
    agent_definitions,
    codifications,
    conversation_summaries,
    corrections,
    document_versions,
    documents,
    episodes,
    graph_episodes,
    ingested_documents,
    ingestion_decisions,
    messages,
    recall_embeddings,
    recall_items,
    retention_runs,
    session_cache_audit,
    skill_lessons,
    switch_settings,
    tenant_data_keys,
    tenants,
    thread_users,
    tool_calls,
    turn_requests,
    turns,
)
from memory.forget.models import ForgetScope

# The HTTP API's keys (api/keys.py owns the table): a forgotten tenant's keys go with it.
api_keys = table("api_keys", column("tenant_id"))

Where = Callable[[ForgetScope, list[ThreadRef], list[str]], ColumnElement[bool]]


def _of_threads(table: Table, thread_column: str = "thread_id") -> Where:
    def where(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
        if scope.user_id is None:
            return table.c.tenant_id == scope.tenant_id
        if not threads:
            return false()
        pairs = [(t.agent_id, t.thread_id) for t in threads]
        return and_(table.c.tenant_id == scope.tenant_id, tuple_(table.c.agent_id, table.c[thread_column]).in_(pairs))

    return where


def _of_user(table: Table) -> Where:
    """Rows that carry the user, or came from one of the user's threads."""
    by_thread = _of_threads(table)

    def where(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
        if scope.user_id is None:
            return table.c.tenant_id == scope.tenant_id
        return or_(
            and_(table.c.tenant_id == scope.tenant_id, table.c.user_id == scope.user_id),
            by_thread(scope, threads, groups),
        )

    return where


def _of_tenant_only(table: Table) -> Where:
    """The agent's or tenant's own rows: erased with the tenant, never with a user."""

    def where(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
        return table.c.tenant_id == scope.tenant_id if scope.user_id is None else false()

    return where


def _recall_vectors(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
    items = select(recall_items.c.id).where(_of_user(recall_items)(scope, threads, groups))
    return recall_embeddings.c.item_id.in_(items)


def _document_versions(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
    if scope.user_id is not None:
        return false()
    return document_versions.c.document_id.in_(select(documents.c.id).where(documents.c.tenant_id == scope.tenant_id))


def _graph_queue(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
    if scope.user_id is None:
        return graph_episodes.c.tenant_id == scope.tenant_id
    return and_(graph_episodes.c.tenant_id == scope.tenant_id, graph_episodes.c.group_id.in_(groups))


def _thread_users(scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> ColumnElement[bool]:
    if scope.user_id is None:
        return thread_users.c.tenant_id == scope.tenant_id
    return and_(thread_users.c.tenant_id == scope.tenant_id, thread_users.c.user_id == scope.user_id)


# In deletion order: rows that reference others first.
TABLES: list[tuple[Table, Where]] = [
    (recall_embeddings, _recall_vectors),
    (recall_items, _of_user(recall_items)),
    (episodes, _of_user(episodes)),
    (messages, _of_threads(messages)),
    (conversation_summaries, _of_threads(conversation_summaries)),
    (turns, _of_threads(turns)),
    (turn_requests, _of_threads(turn_requests)),
    (tool_calls, _of_threads(tool_calls)),
    (corrections, _of_threads(corrections)),
    (ingestion_decisions, _of_threads(ingestion_decisions)),
    (skill_lessons, _of_threads(skill_lessons)),
    (session_cache_audit, _of_threads(session_cache_audit, "session_id")),
    (codifications, _of_threads(codifications, "session_id")),
    (graph_episodes, _graph_queue),
    (thread_users, _thread_users),
    (document_versions, _document_versions),
    (documents, _of_tenant_only(documents)),
    (ingested_documents, _of_tenant_only(ingested_documents)),
    (agent_definitions, _of_tenant_only(agent_definitions)),
    (switch_settings, _of_tenant_only(switch_settings)),
    (retention_runs, _of_tenant_only(retention_runs)),
    (api_keys, _of_tenant_only(api_keys)),
    # Crypto-shredding: without its data key, no payload of the tenant can be decrypted again.
    (tenant_data_keys, _of_tenant_only(tenant_data_keys)),
    (tenants, _of_tenant_only(tenants)),
]


class PostgresEraser:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def threads_of(self, scope: ForgetScope) -> list[ThreadRef]:
        """The user's threads (for a tenant: every thread bound to a user, for the Temporal
        and cache steps; agent-wide threads are found there by the tenant's prefix)."""
        query = select(thread_users).where(thread_users.c.tenant_id == scope.tenant_id)
        if scope.user_id is not None:
            query = query.where(thread_users.c.user_id == scope.user_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(thread_users.c.agent_id, thread_users.c.thread_id))).mappings()
            return [
                ThreadRef(tenant_id=r["tenant_id"], agent_id=r["agent_id"], thread_id=r["thread_id"], user_id=r["user_id"])
                for r in rows
            ]

    async def tenant_groups(self, tenant_id: str) -> list[str]:
        """Every graph group the tenant ever queued an episode for: its own and its users'."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(graph_episodes.c.group_id).where(graph_episodes.c.tenant_id == tenant_id).distinct()
            )
            return sorted({tenant_id, *(group for (group,) in rows)})

    async def count(self, scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        async with self._engine.connect() as conn:
            for table, where in TABLES:
                found = await conn.scalar(select(func.count()).select_from(table).where(where(scope, threads, groups)))
                counts[f"postgres.{table.name}"] = int(found or 0)
        return counts

    async def erase(self, scope: ForgetScope, threads: list[ThreadRef], groups: list[str]) -> dict[str, int]:
        """Delete every row in one transaction: all of it goes, or (after a crash) none of it,
        and a rerun deletes whatever is left."""
        erased: dict[str, int] = {}
        async with self._engine.begin() as conn:
            for table, where in TABLES:
                result = await conn.execute(delete(table).where(where(scope, threads, groups)))
                erased[f"postgres.{table.name}"] = result.rowcount
        return erased
