"""Every ingestion decision, with the gate that made it: the count behind "how much did the
gates save", and the audit trail behind "why is this fact not in the graph"."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.insert_once import insert_once
from memory.core.schema import ingestion_decisions
from memory.graph.gates import GateDecision


class IngestionLog:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def record(
        self,
        decision: GateDecision,
        *,
        idempotency_key: str,
        tenant_id: str,
        source: str,
        agent_id: str | None = None,
        thread_id: str | None = None,
        turn: int | None = None,
    ) -> GateDecision:
        """Record once per key and return the decision in force: a retried decision keeps the first."""
        statement = insert(ingestion_decisions).values(
            tenant_id=tenant_id,
            agent_id=agent_id,
            thread_id=thread_id,
            turn=turn,
            source=source,
            gate=decision.gate.value,
            ingest=decision.ingest,
            detail=decision.detail,
            idempotency_key=idempotency_key,
        )
        columns = (ingestion_decisions.c.gate, ingestion_decisions.c.ingest, ingestion_decisions.c.detail)
        async with self._engine.begin() as conn:
            row = await insert_once(conn, statement, ingestion_decisions.c.idempotency_key, idempotency_key, *columns)
        # Whether the message is short is a fact of this evaluation, not part of the record.
        return GateDecision.model_validate({**dict(row), "short_message": decision.short_message})

    async def counts_by_gate(self, tenant_id: str) -> dict[str, int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(ingestion_decisions.c.gate, func.count())
                .where(ingestion_decisions.c.tenant_id == tenant_id)
                .group_by(ingestion_decisions.c.gate)
            )
            return {gate: count for gate, count in rows}
