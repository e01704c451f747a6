"""Usage ledger: every model and embedding call, by the action that caused it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import case, distinct, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.metrics import MEMORY_MODEL_CALLS, MEMORY_MODEL_TOKENS
from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import usage_ledger
from memory.core.tokens import estimate_tokens
from memory.core.usage_entry import UsageEntry
from memory.llm.base import ModelUsage


class Action(StrEnum):
    AGENT_TURN = "agent_turn"
    CONVERSATION_SUMMARY = "conversation_summary"
    RECALL_EMBED_WRITE = "recall_embed_write"
    RECALL_EMBED_QUERY = "recall_embed_query"
    GRAPH_EXTRACTION = "graph_extraction"
    GRAPH_EMBED = "graph_embed"
    GRAPH_RERANK = "graph_rerank"
    EPISODE_SUMMARY = "episode_summary"
    EPISODE_EMBED = "episode_embed"
    DOCUMENT_EMBED = "document_embed"
    RECALL_EMBED_MIGRATION = "recall_embed_migration"
    SKILL_REFLECTION = "skill_reflection"


def is_memory_layer(action: str) -> bool:
    """Whether the memory layer caused a call, as opposed to the agent's own turn."""
    return action != Action.AGENT_TURN


class UsageRow(BaseModel):
    tenant_id: str
    action: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    cache_creation_input_tokens: int
    # "provider/model" of every model the action used, sorted.
    models: list[str]


# Who a call is billed to: a thread, an agent, or a whole tenant (by id).
Owner = ThreadRef | AgentRef | str


class BilledResponse(Protocol):
    provider: str
    model: str
    usage: ModelUsage


def _owner_columns(owner: Owner) -> dict[str, str | None]:
    if isinstance(owner, str):
        return {"tenant_id": owner, "agent_id": None, "thread_id": None}
    return {"tenant_id": owner.tenant_id, "agent_id": owner.agent_id, "thread_id": getattr(owner, "thread_id", None)}


class UsageLedger:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(self, key: str, owner: Owner, action: Action, *, provider: str, model: str, usage: ModelUsage) -> None:
        """Record once per key: a retried call that already succeeded is not billed twice."""
        async with self._engine.begin() as conn:
            inserted = await conn.execute(
                insert(usage_ledger)
                .values(
                    **_owner_columns(owner),
                    action=action.value,
                    provider=provider,
                    model=model,
                    idempotency_key=key,
                    **usage.model_dump(),
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
        if inserted.rowcount:
            MEMORY_MODEL_CALLS.labels(action=action.value).inc()
            MEMORY_MODEL_TOKENS.labels(action=action.value, direction="input").inc(usage.input_tokens)
            MEMORY_MODEL_TOKENS.labels(action=action.value, direction="output").inc(usage.output_tokens)

    async def record_response(self, key: str, owner: Owner, action: Action, response: BilledResponse) -> None:
        """A model response, billed with the provider, model and usage it reports."""
        await self.record(key, owner, action, provider=response.provider, model=response.model, usage=response.usage)

    async def record_embedding(
        self, key: str, owner: Owner, action: Action, *, provider: str, model: str, texts: Sequence[str]
    ) -> None:
        """An embedding call: providers bill input tokens only, estimated from the texts sent."""
        usage = ModelUsage(input_tokens=sum(estimate_tokens(text) for text in texts))
        await self.record(key, owner, action, provider=provider, model=model, usage=usage)
    async def record_many(self, entries: list[UsageEntry]) -> None:
        """Several calls in one statement, each once per key (the turn's query embeddings,
        billed with the turn's other writes rather than one insert per read)."""
        if not entries:
            return
        async with self._engine.begin() as conn:
            inserted = await conn.execute(
                insert(usage_ledger)
                .values(
                    [
                        dict(
                            tenant_id=e.tenant_id,
                            agent_id=e.agent_id,
                            thread_id=e.thread_id,
                            action=e.action,
                            provider=e.provider,
                            model=e.model,
                            idempotency_key=e.idempotency_key,
                            **e.usage.model_dump(),
                        )
                        for e in entries
                    ]
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
                .returning(usage_ledger.c.idempotency_key)
            )
            new_keys = set(inserted.scalars())
        for e in entries:
            if e.idempotency_key in new_keys:
                MEMORY_MODEL_CALLS.labels(action=e.action).inc()
                MEMORY_MODEL_TOKENS.labels(action=e.action, direction="input").inc(e.usage.input_tokens)
                MEMORY_MODEL_TOKENS.labels(action=e.action, direction="output").inc(e.usage.output_tokens)

    async def totals_by_action(self, tenant_id: str) -> dict[str, int]:
        """Number of recorded calls per action for a tenant."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(usage_ledger.c.action, func.count())
                .where(usage_ledger.c.tenant_id == tenant_id)
                .group_by(usage_ledger.c.action)
            )
            return {action: count for action, count in rows}

    async def report(self, tenant_id: str | None = None, since: datetime | None = None) -> list[UsageRow]:
        """Calls and tokens per tenant and action, ordered by tenant then action."""
        ledger = usage_ledger.c
        query = (
            select(
                ledger.tenant_id,
                ledger.action,
                func.count().label("calls"),
                *(
                    func.sum(column).label(column.name)
                    for column in (
                        ledger.input_tokens,
                        ledger.output_tokens,
                        ledger.cache_read_input_tokens,
                        ledger.cache_creation_input_tokens,
                    )
                ),
                # Embedding model ids already start with their provider ("offline/hashed-ngrams/256").
                func.array_agg(
                    distinct(
                        case(
                            (ledger.model.startswith(ledger.provider + "/"), ledger.model),
                            else_=ledger.provider + "/" + ledger.model,
                        )
                    )
                ).label("models"),
            )
            .group_by(ledger.tenant_id, ledger.action)
            .order_by(ledger.tenant_id, ledger.action)
        )
        if tenant_id is not None:
            query = query.where(ledger.tenant_id == tenant_id)
        if since is not None:
            query = query.where(ledger.created_at >= since)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [UsageRow.model_validate({**row, "models": sorted(row["models"])}) for row in rows]
