"""Recall as an operation: embed with the tenant's current model, store, search, bill."""

from __future__ import annotations

from memory.core.refs import ThreadRef
from memory.core.tenants import TenantRegistry
from memory.core.tokens import estimate_tokens
from memory.core.usage import Action, UsageLedger
from memory.core.usage_entry import UsageEntry
from memory.embedding.base import Embedder
from memory.llm.base import ModelUsage
from memory.recall.store import RecallHit, RecallStore


class EmbedderPool:
    """One embedder per model id, built on first use: the fence picks the model, not the worker."""

    def __init__(self, factory):
        self._factory = factory
        self._embedders: dict[str, Embedder] = {}

    def get(self, model_id: str) -> Embedder:
        if model_id not in self._embedders:
            self._embedders[model_id] = self._factory(model_id)
        return self._embedders[model_id]

    async def close(self) -> None:
        """Close the HTTP clients of the embedders that hold one."""
        embedders, self._embedders = list(self._embedders.values()), {}
        for embedder in embedders:
            if (aclose := getattr(embedder, "aclose", None)) is not None:
                await aclose()


class RecallMemory:
    def __init__(
        self,
        store: RecallStore,
        tenants: TenantRegistry,
        embedders: EmbedderPool,
        ledger: UsageLedger,
        *,
        top_k: int,
        min_score: float,
    ):
        self.store = store
        self._tenants = tenants
        self._embedders = embedders
        self._ledger = ledger
        self._top_k = top_k
        self._min_score = min_score

    async def remember_exchange(self, thread: ThreadRef, turn: int, user_text: str, assistant_text: str) -> int:
        key = f"{thread.key}/turn/{turn}/exchange"
        text = f"user: {user_text}\nassistant: {assistant_text}"
        model, vector = await self._embed(thread, text, purpose="document", key=key, action=Action.RECALL_EMBED_WRITE)
        return await self.store.write(thread, idempotency_key=key, text_=text, embedding=vector, embedding_model=model)

    async def remember_document_chunks(
        self, tenant_id: str, name: str, sha256: str, chunks: list[tuple[int, str]]
    ) -> list[int]:
        """Embed a batch of a document's chunks in one call and store each once."""
        if not chunks:
            return []
        key = f"{tenant_id}/document/{sha256}/chunks/{chunks[0][0]}-{chunks[-1][0]}"
        model = await self._tenants.current_embedding_model(tenant_id)
        embedder = self._embedders.get(model)
        vectors = await embedder.embed([text for _, text in chunks], purpose="document")
        await self._ledger.record(
            idempotency_key=key,
            tenant_id=tenant_id,
            action=Action.DOCUMENT_EMBED,
            provider=embedder.model_id.provider,
            model=model,
            usage=ModelUsage(input_tokens=sum(estimate_tokens(text) for _, text in chunks)),
        )
        return [
            await self.store.write_document_chunk(
                tenant_id,
                name=name,
                chunk_index=index,
                idempotency_key=f"{tenant_id}/document/{sha256}/chunk/{index}",
                text_=text,
                embedding=vector,
                embedding_model=model,
            )
            for (index, text), vector in zip(chunks, vectors, strict=True)
        ]

    async def search(self, thread: ThreadRef, turn: int, query: str, *, ledger_key: str | None = None) -> list[RecallHit]:
        """Past exchanges of this agent in other threads, nearest first. A search the agent
        asked for with a tool is billed under its own key, apart from the turn's own search."""
        key = ledger_key or f"{thread.key}/turn/{turn}/recall_query"
        model, vector = await self._embed(thread, query, purpose="query", key=key, action=Action.RECALL_EMBED_QUERY)
        return await self.store.search(
            thread.agent,
            query_embedding=vector,
            embedding_model=model,
            limit=self._top_k,
            min_score=self._min_score,
            exclude_thread_id=thread.thread_id,
        )

    async def search_unbilled(self, thread: ThreadRef, turn: int, query: str) -> tuple[list[RecallHit], UsageEntry]:
        """The turn's own search, reading only: the fence from the cache, and the query's
        embedding handed back as a usage entry for the turn's commit to bill."""
        model = await self._tenants.query_embedding_model(thread.tenant_id)
        embedder = self._embedders.get(model)
        [vector] = await embedder.embed([query], purpose="query")
        hits = await self.store.search(
            thread.agent,
            query_embedding=vector,
            embedding_model=model,
            limit=self._top_k,
            min_score=self._min_score,
            exclude_thread_id=thread.thread_id,
        )
        entry = UsageEntry(
            idempotency_key=f"{thread.key}/turn/{turn}/recall_query",
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            action=Action.RECALL_EMBED_QUERY.value,
            provider=embedder.model_id.provider,
            model=model,
            usage=ModelUsage(input_tokens=estimate_tokens(query)),
        )
        return hits, entry

    async def _embed(self, thread: ThreadRef, text: str, *, purpose: str, key: str, action: Action):
        model = await self._tenants.current_embedding_model(thread.tenant_id)
        embedder = self._embedders.get(model)
        [vector] = await embedder.embed([text], purpose=purpose)
        await self._ledger.record(
            idempotency_key=key,
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            action=action,
            provider=embedder.model_id.provider,
            model=model,
            usage=ModelUsage(input_tokens=estimate_tokens(text)),
        )
        return model, vector
