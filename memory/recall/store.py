"""Persistent recall store: past exchanges as text plus one vector per embedding model.

Every search is fenced on the tenant and on one embedding model, so vectors of two
geometries are never compared. Retrieval stamps last_retrieved_at, which retention uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.insert_once import insert_once
from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import recall_embeddings, recall_items
from memory.recall.fenced_search import (  # noqa: F401  (search_sql re-exported for tests and benchmarks)
    DETAILS_SQL,
    SEARCH_SETTINGS_SQL,
    pipelined_reads,
    read_pipelined,
    search_sql,
    vector_text,
)
from memory.recall.hnsw import (  # noqa: F401  (re-exported: the migration and tests use them)
    DEFAULT_HNSW,
    HNSW_MAX_DIMENSIONS,
    HnswSettings,
    ensure_index,
    index_name,
    index_sql,
    model_literal,
)
from memory.recall.search import (
    FusionSettings,
    RetrievalMode,
    fuse,
    lexical_sql,
    query_terms,
)


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
    # When the remembered thing happened; created_at is when it was stored.
    occurred_at: datetime

    @property
    def provenance(self) -> str:
        if self.source_type == "document":
            return f"document {self.source_name} chunk {self.chunk_index}"
        return f"exchange in thread {self.thread_id}"


class RecallHit(RecallItem):
    score: float
    # How the item was found: "vector", "lexical" or "both" (hybrid search).
    found_by: str = "vector"


class RecallStore:
    def __init__(self, engine: AsyncEngine, hnsw: HnswSettings = DEFAULT_HNSW):
        self._engine = engine
        self._hnsw = hnsw
        # The candidate list per scan, per transaction.
        self._search_settings = (SEARCH_SETTINGS_SQL, {"ef_search": str(int(hnsw.ef_search))})
        # Models whose index this process has already ensured: the check runs once per model.
        self._indexed: set[str] = set()

    async def ensure_index(self, embedding_model: str) -> None:
        """Ensure the model's approximate index, once per model and process. A model too
        wide to index is left without one: its searches stay exact."""
        if embedding_model in self._indexed:
            return
        if model_literal(embedding_model)[1] <= HNSW_MAX_DIMENSIONS:
            await ensure_index(self._engine, embedding_model, self._hnsw)
        self._indexed.add(embedding_model)

    async def write(
        self,
        thread: ThreadRef,
        *,
        idempotency_key: str,
        text_: str,
        embedding: list[float],
        embedding_model: str,
        source_type: str = "exchange",
        occurred_at: datetime | None = None,
    ) -> int:
        """Store an item and its vector once; a retry with the same key changes nothing.
        occurred_at is when the exchange happened (the insert time if not given)."""
        item = dict(
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            user_id=thread.user_id,
            source_type=source_type,
        )
        if occurred_at is not None:
            item["occurred_at"] = occurred_at
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
        # Before the write's own transaction: a concurrent index build waits for open ones.
        # So a fresh install's default model is indexed from its first write.
        await self.ensure_index(embedding_model)
        async with self._engine.begin() as conn:
            stored = await insert_once(
                conn,
                insert(recall_items).values(**item, text=text_, idempotency_key=idempotency_key),
                recall_items.c.idempotency_key,
                idempotency_key,
                recall_items.c.id,
            )
            item_id = stored["id"]
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
        user_id: str | None = None,
    ) -> list[RecallHit]:
        """The nearest items by meaning alone, stamped as retrieved."""
        params = self._scope(agent, exclude_thread_id, user_id)
        _, rows = await read_pipelined(
            self._engine, self._vector_leg(embedding_model, params, query_embedding, limit, with_items=True)
        )
        hits = [RecallHit.model_validate(r) for r in rows if r["score"] >= min_score]
        await self.mark_retrieved(agent.tenant_id, [h.id for h in hits])
        return hits

    async def hybrid_search(
        self,
        agent: AgentRef,
        *,
        query: str,
        query_embedding: list[float] | None,
        embedding_model: str,
        limit: int,
        min_score: float,
        fusion: FusionSettings,
        exclude_thread_id: str = "",
        user_id: str | None = None,
        stamp_retrieved: bool = True,
    ) -> list[RecallHit]:
        """The vector leg (candidates at or above min_score similarity) and the full-text
        leg, fused by reciprocal rank; see memory.recall_search. An empty exclude_thread_id
        searches all of the agent's threads. Exchanges are those of agent-wide threads and of
        user_id's own threads (with no user_id: agent-wide threads only); documents are everyone's.
        stamp_retrieved=False leaves last_retrieved_at to the caller (a turn stamps what it used
        when it commits: mark_retrieved)."""
        if limit < 1:
            return []
        literal, _ = model_literal(embedding_model)
        params = self._scope(agent, exclude_thread_id, user_id)
        statements: list[tuple[str, dict]] = []
        vector_leg = fusion.mode != RetrievalMode.LEXICAL and query_embedding is not None
        if vector_leg:
            statements += self._vector_leg(embedding_model, params, query_embedding, fusion.vector_candidates)
        terms = query_terms(query)
        lexical_leg = fusion.mode != RetrievalMode.VECTOR and bool(terms)
        if lexical_leg:
            statements.append((lexical_sql(literal), {**params, "query": query, "terms": terms, "limit": fusion.lexical_candidates}))
        if not statements:
            return []
        async with pipelined_reads(self._engine) as read:
            found = await read(statements)
            vector_rows = [r for r in found[1] if r["score"] >= min_score] if vector_leg else []
            lexical_rows = found[-1] if lexical_leg else []
            fused = fuse(vector_rows, lexical_rows, fusion, limit=limit)
            items = await self._details(read, agent.tenant_id, [f.row["id"] for f in fused])
        hits = [
            RecallHit.model_validate({**items[f.row["id"]], "score": f.score, "found_by": f.found_by.value})
            for f in fused
            if f.row["id"] in items  # forgotten between the legs and this read
        ]
        if stamp_retrieved:
            await self.mark_retrieved(agent.tenant_id, [h.id for h in hits])
        return hits

    def _vector_leg(
        self, embedding_model: str, params: dict, query_embedding: list[float], limit: int, *, with_items: bool = False
    ) -> list[tuple[str, dict]]:
        """The vector leg's statements: its per-transaction settings, then the search, whose
        rows are the second result (ids and scores, and the items too with_items)."""
        sql = search_sql(embedding_model, with_items=with_items)
        search = (sql, {**params, "query": vector_text(query_embedding), "limit": limit})
        return [self._search_settings, search]

    @staticmethod
    async def _details(read: Callable, tenant_id: str, ids: list[int]) -> dict[int, dict]:
        """The chosen items by id, read in the search's own transaction."""
        if not ids:
            return {}
        [rows] = await read([(DETAILS_SQL, {"tenant_id": tenant_id, "ids": ids})])
        return {row["id"]: row for row in rows}

    @staticmethod
    def _scope(agent: AgentRef, exclude_thread_id: str, user_id: str | None) -> dict:
        return {
            "tenant_id": agent.tenant_id,
            "agent_id": agent.agent_id,
            "exclude_thread_id": exclude_thread_id,
            "user_id": user_id,
        }

    async def mark_retrieved(self, tenant_id: str, ids: list[int]) -> None:
        """Stamp items as retrieved now (retention keeps what is still being recalled)."""
        if not ids:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                update(recall_items)
                .where(recall_items.c.tenant_id == tenant_id, recall_items.c.id.in_(ids))
                .values(last_retrieved_at=func.now())
            )

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
