"""Recall as an operation: embed with the tenant's current model, store, search, bill."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from memory.core.config import Settings
from memory.core.refs import AgentRef, ThreadRef
from memory.core.tenants import TenantRegistry
from memory.core.tokens import estimate_tokens
from memory.core.usage import Action, UsageLedger
from memory.core.usage_entry import UsageEntry
from memory.core.validation import InvalidInput, check_storable
from memory.embedding.base import Embedder
from memory.llm.base import ModelUsage
from memory.recall.search import FusionMethod, FusionSettings, RetrievalMode
from memory.recall.store import RecallHit, RecallStore


class ImportedTurn(BaseModel):
    """One remembered exchange or utterance from outside the turn loop: an imported
    conversation's turn, or a single turn written by a caller."""

    key: str = Field(min_length=1, max_length=200, description="unique within the thread; a retry with it stores nothing new")
    text: str = Field(min_length=1, max_length=100_000)
    occurred_at: AwareDatetime

    @field_validator("text")
    @classmethod
    def _storable(cls, value: str) -> str:
        return check_storable("imported turn text", value)


def fusion_settings(settings: Settings) -> FusionSettings:
    return FusionSettings(
        mode=RetrievalMode(settings.recall_retrieval),
        method=FusionMethod(settings.recall_fusion),
        rrf_k=settings.recall_rrf_k,
        vector_candidates=settings.recall_vector_candidates,
        lexical_candidates=settings.recall_lexical_candidates,
        vector_weight=settings.recall_vector_weight,
        lexical_weight=settings.recall_lexical_weight,
    )


# One embedding call per this many imported turns: big enough to amortise a hosted
# provider's round trip, small enough for one request body.
IMPORT_BATCH = 64


class EmbedderPool:
    """One embedder per model id, built on first use: the fence picks the model, not the worker."""

    # Query vectors kept: a turn's recall and episodic searches embed the same message.
    QUERY_CACHE = 256

    def __init__(self, factory):
        self._factory = factory
        self._embedders: dict[str, Embedder] = {}
        self._queries: OrderedDict[tuple[str, str], list[float]] = OrderedDict()
        self._pending: dict[tuple[str, str], asyncio.Future] = {}

    async def embed_query(self, model_id: str, query: str) -> list[float]:
        """The query's vector under the model, computed once for concurrent and repeated
        asks (a turn reads recall and episodes at once): one provider call, one bill."""
        key = (model_id, query)
        if (vector := self._queries.get(key)) is not None:
            self._queries.move_to_end(key)
            return vector
        if (pending := self._pending.get(key)) is not None:
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            [vector] = await self.get(model_id).embed([query], purpose="query")
        except BaseException as error:
            future.set_exception(error)
            # Retrieved here, so a failure nobody else awaited is not logged as unhandled.
            future.exception()
            raise
        else:
            future.set_result(vector)
            self._queries[key] = vector
            while len(self._queries) > self.QUERY_CACHE:
                self._queries.popitem(last=False)
            return vector
        finally:
            del self._pending[key]

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
        fusion: FusionSettings = FusionSettings(),
    ):
        self.store = store
        self._tenants = tenants
        self._embedders = embedders
        self._ledger = ledger
        self._top_k = top_k
        self._min_score = min_score
        self._fusion = fusion

    async def remember_exchange(
        self,
        thread: ThreadRef,
        turn: int,
        user_text: str,
        assistant_text: str,
        *,
        occurred_at: datetime | None = None,
    ) -> int:
        key = f"{thread.key}/turn/{turn}/exchange"
        text = f"user: {user_text}\nassistant: {assistant_text}"
        model, vector = await self._embed(
            thread.agent, thread.thread_id, text, purpose="document", key=key, action=Action.RECALL_EMBED_WRITE
        )
        return await self.store.write(
            thread, idempotency_key=key, text_=text, embedding=vector, embedding_model=model, occurred_at=occurred_at
        )

    async def remember_turns(self, thread: ThreadRef, turns: list[ImportedTurn]) -> list[int]:
        """Store single turns or an imported conversation, each with the time it happened.

        Embedded in batches with the tenant's current model and billed like every other
        write (one ledger row per batch, keyed by its first and last turn).
        """
        keys = [t.key for t in turns]
        if len(set(keys)) != len(keys):
            raise InvalidInput("imported turns must have distinct keys")
        ids: list[int] = []
        for start in range(0, len(turns), IMPORT_BATCH):
            batch = turns[start : start + IMPORT_BATCH]
            ledger_key = f"{thread.key}/import/{batch[0].key}..{batch[-1].key}"
            model = await self._tenants.current_embedding_model(thread.tenant_id)
            embedder = self._embedders.get(model)
            vectors = await embedder.embed([t.text for t in batch], purpose="document")
            await self._ledger.record_embedding(
                ledger_key,
                thread,
                Action.RECALL_EMBED_WRITE,
                provider=embedder.model_id.provider,
                model=model,
                texts=[t.text for t in batch],
            )
            for turn, vector in zip(batch, vectors, strict=True):
                ids.append(
                    await self.store.write(
                        thread,
                        idempotency_key=f"{thread.key}/import/{turn.key}",
                        text_=turn.text,
                        embedding=vector,
                        embedding_model=model,
                        occurred_at=turn.occurred_at,
                    )
                )
        return ids

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
        texts = [text for _, text in chunks]
        await self._ledger.record_embedding(
            key, tenant_id, Action.DOCUMENT_EMBED, provider=embedder.model_id.provider, model=model, texts=texts
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

    async def search(
        self,
        thread: ThreadRef,
        turn: int,
        query: str,
        *,
        ledger_key: str | None = None,
        k: int | None = None,
        min_score: float | None = None,
    ) -> list[RecallHit]:
        """Past exchanges of this agent in other threads and the tenant's documents, best
        first. A search the agent asked for with a tool is billed under its own key, apart
        from the turn's own search."""
        key = ledger_key or f"{thread.key}/turn/{turn}/recall_query"
        return await self._search(
            thread.agent, thread.thread_id, query, key=key, k=k, min_score=min_score, user_id=thread.user_id
        )

    async def recall(
        self,
        agent: AgentRef,
        query: str,
        *,
        request_key: str,
        k: int | None = None,
        min_score: float | None = None,
        user_id: str | None = None,
    ) -> list[RecallHit]:
        """Search all of an agent's memory from no thread (an operator's or an
        application's question). request_key names the query in the usage ledger: a retry
        with the same key is billed once."""
        if not request_key:
            raise InvalidInput("a recall from no thread needs a request key for its billing")
        key = f"{agent.tenant_id}/{agent.agent_id}/recall/{request_key}"
        # No thread is excluded: "" is no stored thread's id.
        return await self._search(agent, None, query, key=key, k=k, min_score=min_score, user_id=user_id)

    async def _search(
        self,
        agent: AgentRef,
        thread_id: str | None,
        query: str,
        *,
        key: str,
        k: int | None,
        min_score: float | None,
        user_id: str | None = None,
    ) -> list[RecallHit]:
        k = self._top_k if k is None else k
        if not 1 <= k <= 100:
            raise InvalidInput(f"k must be between 1 and 100, not {k}")
        floor = self._min_score if min_score is None else min_score
        if not -1.0 <= floor <= 1.0:
            raise InvalidInput(f"min_score is a cosine similarity between -1 and 1, not {floor}")
        if self._fusion.mode == RetrievalMode.LEXICAL:
            model, vector = await self._tenants.current_embedding_model(agent.tenant_id), None
        else:
            model, vector = await self._embed(
                agent, thread_id, query, purpose="query", key=key, action=Action.RECALL_EMBED_QUERY
            )
        return await self.store.hybrid_search(
            agent,
            query=query,
            query_embedding=vector,
            embedding_model=model,
            limit=k,
            min_score=floor,
            fusion=self._fusion,
            exclude_thread_id=thread_id or "",
            user_id=user_id,
        )

    async def search_unbilled(self, thread: ThreadRef, turn: int, query: str) -> tuple[list[RecallHit], UsageEntry | None]:
        """The turn's own search, reading only: the fence from the worker's cache, the
        query's embedding handed back as a usage entry for the turn's commit to bill, and the
        hits left for the commit to stamp as retrieved (RecallStore.mark_retrieved)."""
        model = await self._tenants.query_embedding_model(thread.tenant_id)
        vector, entry = None, None
        if self._fusion.mode != RetrievalMode.LEXICAL:
            vector = await self._embedders.embed_query(model, query)
            entry = self.query_usage(thread, turn, query, model)
        hits = await self.store.hybrid_search(
            thread.agent,
            query=query,
            query_embedding=vector,
            embedding_model=model,
            limit=self._top_k,
            min_score=self._min_score,
            fusion=self._fusion,
            exclude_thread_id=thread.thread_id,
            user_id=thread.user_id,
            stamp_retrieved=False,
        )
        return hits, entry

    def query_usage(self, thread: ThreadRef, turn: int, query: str, model: str) -> UsageEntry:
        """The turn's query embedding as a usage entry. Recall and episodes share the vector
        and this key, so the ledger bills it once whichever layers read."""
        return UsageEntry(
            idempotency_key=f"{thread.key}/turn/{turn}/recall_query",
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            action=Action.RECALL_EMBED_QUERY.value,
            provider=self._embedders.get(model).model_id.provider,
            model=model,
            usage=ModelUsage(input_tokens=estimate_tokens(query)),
        )

    async def _embed(self, agent: AgentRef, thread_id: str | None, text: str, *, purpose: str, key: str, action: Action):
        model = await self._tenants.current_embedding_model(agent.tenant_id)
        embedder = self._embedders.get(model)
        [vector] = await embedder.embed([text], purpose=purpose)
        # From no thread, the query is billed to the agent.
        owner = ThreadRef(**agent.model_dump(), thread_id=thread_id) if thread_id else agent
        await self._ledger.record_embedding(key, owner, action, provider=embedder.model_id.provider, model=model, texts=[text])
        return model, vector
