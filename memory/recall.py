"""Persistent recall store: past exchanges as text plus one vector per embedding model.

Every search is fenced on the tenant and on one embedding model, so vectors of two
geometries are never compared. Retrieval stamps last_retrieved_at, which retention uses.
"""

from __future__ import annotations

from datetime import datetime

from pgvector.sqlalchemy import Vector
from pydantic import BaseModel
from sqlalchemy import bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.refs import AgentRef, ThreadRef
from memory.schema import recall_embeddings, recall_items


class RecallItem(BaseModel):
    id: int
    tenant_id: str
    # Exchanges belong to an agent's thread; document chunks to the tenant, with provenance.
    agent_id: str | None
    thread_id: str | None
    source_type: str
    source_name: str | None = None
    chunk_index: int | None = None
    text: str
    created_at: datetime

    @property
    def provenance(self) -> str:
        if self.source_type == "document":
            return f"document {self.source_name} chunk {self.chunk_index}"
        return f"exchange in thread {self.thread_id}"


class RecallHit(RecallItem):
    score: float


_SEARCH = text(
    """
    SELECT i.id, i.tenant_id, i.agent_id, i.thread_id, i.source_type, i.source_name, i.chunk_index,
           i.text, i.created_at, 1 - (e.embedding <=> :query) AS score
    FROM recall_embeddings e
    JOIN recall_items i ON i.id = e.item_id
    WHERE e.tenant_id = :tenant_id
      AND e.embedding_model = :model
      AND i.tenant_id = :tenant_id
      AND (
        (i.source_type = 'exchange' AND i.agent_id = :agent_id AND i.thread_id <> :exclude_thread_id)
        OR i.source_type = 'document'
      )
    ORDER BY e.embedding <=> :query
    LIMIT :limit
    """
).bindparams(bindparam("query", type_=Vector()))


class RecallStore:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def write(
        self,
        thread: ThreadRef,
        *,
        idempotency_key: str,
        text_: str,
        embedding: list[float],
        embedding_model: str,
        source_type: str = "exchange",
    ) -> int:
        """Store an item and its vector once; a retry with the same key changes nothing."""
        item = dict(tenant_id=thread.tenant_id, agent_id=thread.agent_id, thread_id=thread.thread_id, source_type=source_type)
        return await self._store(item, idempotency_key, text_, embedding, embedding_model)

    async def write_document_chunk(
        self,
        tenant_id: str,
        *,
        name: str,
        chunk_index: int,
        idempotency_key: str,
        text_: str,
        embedding: list[float],
        embedding_model: str,
    ) -> int:
        """A chunk of a tenant's document: retrievable by every agent of the tenant."""
        item = dict(tenant_id=tenant_id, source_type="document", source_name=name, chunk_index=chunk_index)
        return await self._store(item, idempotency_key, text_, embedding, embedding_model)

    async def _store(
        self, item: dict, idempotency_key: str, text_: str, embedding: list[float], embedding_model: str
    ) -> int:
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(recall_items)
                .values(**item, text=text_, idempotency_key=idempotency_key)
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            item_id = await conn.scalar(
                select(recall_items.c.id).where(recall_items.c.idempotency_key == idempotency_key)
            )
            await conn.execute(
                insert(recall_embeddings)
                .values(item_id=item_id, embedding_model=embedding_model, tenant_id=item["tenant_id"], embedding=embedding)
                .on_conflict_do_nothing(index_elements=["item_id", "embedding_model"])
            )
        return int(item_id)

    async def search(
        self,
        agent: AgentRef,
        *,
        query_embedding: list[float],
        embedding_model: str,
        limit: int,
        min_score: float,
        exclude_thread_id: str = "",
    ) -> list[RecallHit]:
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    _SEARCH,
                    {
                        "query": query_embedding,
                        "tenant_id": agent.tenant_id,
                        "agent_id": agent.agent_id,
                        "model": embedding_model,
                        "exclude_thread_id": exclude_thread_id,
                        "limit": limit,
                    },
                )
            ).mappings()
            hits = [RecallHit.model_validate(dict(r)) for r in rows if r["score"] >= min_score]
            if hits:
                await conn.execute(
                    update(recall_items)
                    .where(recall_items.c.id.in_([h.id for h in hits]))
                    .values(last_retrieved_at=func.now())
                )
        return hits

    async def items_by_id(self, agent: AgentRef, ids: list[int]) -> list[RecallItem]:
        if not ids:
            return []
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(recall_items).where(
                        recall_items.c.tenant_id == agent.tenant_id,
                        or_(recall_items.c.agent_id == agent.agent_id, recall_items.c.source_type == "document"),
                        recall_items.c.id.in_(ids),
                    )
                )
            ).mappings()
            return [RecallItem.model_validate(dict(r)) for r in rows]
