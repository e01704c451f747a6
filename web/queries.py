"""Read-only listings the pages need and no store offers: agents and threads of a tenant,
pages of recall items, usage over time, gate savings. Every query is bounded and names the
tenant, so a page can never show another tenant's rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, literal, select, union
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.schema import (
    documents,
    ingested_documents,
    ingestion_decisions,
    recall_items,
    turns,
    usage_ledger,
)
from memory.core.usage import is_memory_layer


class ThreadRow(BaseModel):
    agent_id: str
    thread_id: str
    turns: int
    last_at: datetime


class UsageBucket(BaseModel):
    day: datetime
    memory_calls: int
    agent_calls: int
    memory_tokens: int
    agent_tokens: int


class GateSaving(BaseModel):
    gate: str
    skipped: int


class RecallRow(BaseModel):
    id: int
    agent_id: str | None
    thread_id: str | None
    source_type: str
    source_name: str | None
    chunk_index: int | None
    text: str
    occurred_at: datetime


class DocumentRow(BaseModel):
    id: int
    name: str
    sha256: str
    chars: int
    chunks: int
    created_at: datetime


class WebQueries:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def agents(self, tenant_id: str) -> list[str]:
        query = union(
            select(turns.c.agent_id).where(turns.c.tenant_id == tenant_id).distinct(),
            select(documents.c.agent_id).where(documents.c.tenant_id == tenant_id).distinct(),
        )
        async with self._engine.connect() as conn:
            return sorted({row[0] for row in await conn.execute(query)})

    async def agent_exists(self, tenant_id: str, agent_id: str) -> bool:
        """Whether the tenant has an agent of that id: one that took a turn or has a document."""
        async with self._engine.connect() as conn:
            for table in (turns, documents):
                found = await conn.scalar(
                    select(literal(1)).where(table.c.tenant_id == tenant_id, table.c.agent_id == agent_id).limit(1)
                )
                if found:
                    return True
        return False

    async def threads(self, tenant_id: str, agent_id: str, *, offset: int, limit: int) -> tuple[list[ThreadRow], int]:
        where = (turns.c.tenant_id == tenant_id, turns.c.agent_id == agent_id)
        query = (
            select(
                turns.c.agent_id,
                turns.c.thread_id,
                func.count().label("turns"),
                func.max(turns.c.created_at).label("last_at"),
            )
            .where(*where)
            .group_by(turns.c.agent_id, turns.c.thread_id)
            .order_by(func.max(turns.c.created_at).desc(), turns.c.thread_id)
            .offset(offset)
            .limit(limit)
        )
        count = select(func.count(func.distinct(turns.c.thread_id))).where(*where)
        async with self._engine.connect() as conn:
            rows = [ThreadRow.model_validate(dict(r)) for r in (await conn.execute(query)).mappings()]
            total = await conn.scalar(count)
        return rows, int(total or 0)

    async def thread_turns(self, tenant_id: str, agent_id: str, thread_id: str, *, offset: int, limit: int) -> tuple[list[int], int]:
        where = (turns.c.tenant_id == tenant_id, turns.c.agent_id == agent_id, turns.c.thread_id == thread_id)
        async with self._engine.connect() as conn:
            numbers = [r[0] for r in await conn.execute(select(turns.c.turn).where(*where).order_by(turns.c.turn).offset(offset).limit(limit))]
            total = await conn.scalar(select(func.count()).select_from(turns).where(*where))
        return numbers, int(total or 0)

    async def recall_page(self, tenant_id: str, agent_id: str | None, *, before: int | None, limit: int) -> tuple[list[RecallRow], int]:
        """Newest first, by keyset (`before` an id) so the 2,000th page costs what the first does."""
        where = [recall_items.c.tenant_id == tenant_id]
        if agent_id is not None:
            where.append(recall_items.c.agent_id == agent_id)
        query = select(*(recall_items.c[name] for name in RecallRow.model_fields)).where(*where)
        if before is not None:
            query = query.where(recall_items.c.id < before)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(recall_items.c.id.desc()).limit(limit))).mappings().all()
            # An estimate is enough for a page count, and an exact count of 100,000 rows is not free.
            total = await conn.scalar(select(func.count()).select_from(recall_items).where(*where))
        return [RecallRow.model_validate(dict(r)) for r in rows], int(total or 0)

    async def documents(self, tenant_id: str, *, offset: int, limit: int) -> tuple[list[DocumentRow], int]:
        where = ingested_documents.c.tenant_id == tenant_id
        query = (
            select(*(ingested_documents.c[name] for name in DocumentRow.model_fields))
            .where(where)
            .order_by(ingested_documents.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
            total = await conn.scalar(select(func.count()).select_from(ingested_documents).where(where))
        return [DocumentRow.model_validate(dict(r)) for r in rows], int(total or 0)

    async def document(self, tenant_id: str, document_id: int) -> DocumentRow | None:
        query = select(*(ingested_documents.c[name] for name in DocumentRow.model_fields)).where(
            ingested_documents.c.tenant_id == tenant_id, ingested_documents.c.id == document_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().one_or_none()
        return DocumentRow.model_validate(dict(row)) if row else None

    async def usage_by_day(self, tenant_id: str, days: int = 30) -> list[UsageBucket]:
        ledger = usage_ledger.c
        day = func.date_trunc("day", ledger.created_at).label("day")
        query = (
            select(
                day,
                ledger.action,
                func.count().label("calls"),
                func.sum(ledger.input_tokens + ledger.output_tokens).label("tokens"),
            )
            .where(ledger.tenant_id == tenant_id, ledger.created_at >= func.now() - func.make_interval(0, 0, 0, days))
            .group_by(day, ledger.action)
            .order_by(day)
        )
        buckets: dict[datetime, UsageBucket] = {}
        async with self._engine.connect() as conn:
            for row in await conn.execute(query):
                bucket = buckets.setdefault(
                    row.day, UsageBucket(day=row.day, memory_calls=0, agent_calls=0, memory_tokens=0, agent_tokens=0)
                )
                if is_memory_layer(row.action):
                    bucket.memory_calls += row.calls
                    bucket.memory_tokens += int(row.tokens or 0)
                else:
                    bucket.agent_calls += row.calls
                    bucket.agent_tokens += int(row.tokens or 0)
        return list(buckets.values())

    async def gate_savings(self, tenant_id: str) -> list[GateSaving]:
        """Extraction calls the ingestion gates saved: decisions not to ingest, by gate."""
        d = ingestion_decisions.c
        query = (
            select(d.gate, func.count().label("skipped"))
            .where(d.tenant_id == tenant_id, d.ingest == literal(False))
            .group_by(d.gate)
            .order_by(func.count().desc())
        )
        async with self._engine.connect() as conn:
            return [GateSaving(gate=r.gate, skipped=r.skipped) for r in await conn.execute(query)]
