"""Usage ledger: every model and embedding call, by the action that caused it."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.llm.base import ModelUsage
from memory.schema import usage_ledger


class Action(StrEnum):
    AGENT_TURN = "agent_turn"
    CONVERSATION_SUMMARY = "conversation_summary"
    RECALL_EMBED_WRITE = "recall_embed_write"
    RECALL_EMBED_QUERY = "recall_embed_query"


class UsageLedger:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(
        self,
        *,
        idempotency_key: str,
        tenant_id: str,
        action: Action,
        provider: str,
        model: str,
        usage: ModelUsage,
        agent_id: str | None = None,
        thread_id: str | None = None,
    ) -> None:
        """Record once per key: a retried call that already succeeded is not billed twice."""
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(usage_ledger)
                .values(
                    tenant_id=tenant_id,
                    agent_id=agent_id,
                    thread_id=thread_id,
                    action=action.value,
                    provider=provider,
                    model=model,
                    idempotency_key=idempotency_key,
                    **usage.model_dump(),
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )

    async def totals_by_action(self, tenant_id: str) -> dict[str, int]:
        """Number of recorded calls per action for a tenant."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(usage_ledger.c.action, func.count())
                .where(usage_ledger.c.tenant_id == tenant_id)
                .group_by(usage_ledger.c.action)
            )
            return {action: count for action, count in rows}
