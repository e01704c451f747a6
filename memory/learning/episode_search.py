"""Episodic search by words and by meaning: the full-text leg on the summaries and a vector
leg on their embeddings, fused as recall fuses its legs (memory/recall/search.py).

An episode's summary is embedded once, when it is recorded, with the tenant's current
embedding model, and billed. The vector leg reads only vectors of the tenant's current
model (the fence); an episode without one (recorded before a model switch, or before
episodes had vectors) is still found by its words. Recency stays a bounded tie-breaker:
the fused score times 1 + w * position in the agent's own span of episodes.
"""

from __future__ import annotations

from pgvector.sqlalchemy import Vector
from sqlalchemy import Float, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import AgentRef
from memory.core.schema import episode_embeddings, episodes
from memory.core.tenants import TenantRegistry
from memory.core.usage import Action, UsageLedger
from memory.learning.episodic import (
    _ENGLISH,
    _SUMMARY_VECTOR,
    EpisodicMemory,
    Outcome,
    StoredEpisode,
    _owned_by,
    _position,
    _stored,
    any_word_query,
)
from memory.recall.search import FusionSettings, RetrievalMode, fuse
from memory.recall.service import EmbedderPool

_DISTANCE = episode_embeddings.c.embedding.op("<=>", return_type=Float)(cast(bindparam("query", type_=Vector()), Vector()))


class EpisodeSearch:
    def __init__(
        self,
        engine: AsyncEngine,
        episodic: EpisodicMemory,
        tenants: TenantRegistry,
        embedders: EmbedderPool,
        ledger: UsageLedger,
        *,
        fusion: FusionSettings = FusionSettings(),
        min_score: float = 0.15,
        recency_weight: float = 0.1,
    ):
        self._engine = engine
        self._episodic = episodic
        self._tenants = tenants
        self._embedders = embedders
        self._ledger = ledger
        self._fusion = fusion
        self._min_score = min_score
        self._recency_weight = recency_weight

    @property
    def uses_vectors(self) -> bool:
        return self._fusion.mode != RetrievalMode.LEXICAL

    async def remember(self, episode: StoredEpisode, *, idempotency_key: str) -> None:
        """Embed the episode's summary with the tenant's current model, bill it, store the
        vector once (a retry with the same key stores and bills nothing new)."""
        thread = episode.thread
        model = await self._tenants.current_embedding_model(thread.tenant_id)
        embedder = self._embedders.get(model)
        [vector] = await embedder.embed([episode.summary], purpose="document")
        await self._ledger.record_embedding(
            idempotency_key, thread, Action.EPISODE_EMBED, provider=embedder.model_id.provider, model=model, texts=[episode.summary]
        )
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(episode_embeddings)
                .values(episode_id=episode.id, embedding_model=model, tenant_id=thread.tenant_id, embedding=vector)
                .on_conflict_do_nothing(index_elements=["episode_id", "embedding_model"])
            )

    async def query_vector(self, agent: AgentRef, query: str) -> tuple[str, list[float]]:
        """The query embedded with the tenant's current model, shared with the turn's recall
        search (EmbedderPool.embed_query); billing is the caller's."""
        model = await self._tenants.query_embedding_model(agent.tenant_id)
        return model, await self._embedders.embed_query(model, query)

    async def search(
        self,
        agent: AgentRef,
        query: str,
        *,
        outcomes: set[Outcome] | None = None,
        limit: int = 3,
        exclude_thread: str | None = None,
        query_embedding: tuple[str, list[float]] | None = None,
    ) -> list[StoredEpisode]:
        """The agent's past episodes most like the query, best first: by words and by
        meaning when query_embedding (model, vector) is given, by words alone otherwise
        (EpisodicMemory.search, with its fallback for "what failed" questions)."""
        if query_embedding is None or self._fusion.mode == RetrievalMode.LEXICAL or limit < 1:
            return await self._episodic.search(
                agent, query, outcomes=outcomes, limit=limit, exclude_thread=exclude_thread
            )
        model, vector = query_embedding
        filters = [*_owned_by(agent)]
        if outcomes:
            filters.append(episodes.c.outcome.in_(sorted(o.value for o in outcomes)))
        if exclude_thread is not None:
            filters.append(episodes.c.thread_id != exclude_thread)
        position = _position(agent).label("position")
        async with self._engine.connect() as conn:
            similarity = (1 - _DISTANCE).label("score")
            found = await conn.execute(
                select(episodes, position, similarity)
                .join(episode_embeddings, episode_embeddings.c.episode_id == episodes.c.id)
                .where(
                    *filters,
                    episode_embeddings.c.tenant_id == agent.tenant_id,
                    episode_embeddings.c.embedding_model == model,
                )
                .order_by(_DISTANCE, episodes.c.id.desc())
                .limit(self._fusion.vector_candidates),
                {"query": vector},
            )
            vector_rows = [dict(r) for r in found.mappings() if r["score"] >= self._min_score]
            lexical_rows = []
            terms = any_word_query(query)
            if terms and self._fusion.mode == RetrievalMode.HYBRID:
                tsquery = func.websearch_to_tsquery(_ENGLISH, terms)
                rank = func.ts_rank(_SUMMARY_VECTOR, tsquery).label("rank")
                found = await conn.execute(
                    select(episodes, position, rank)
                    .where(*filters, _SUMMARY_VECTOR.op("@@")(tsquery))
                    .order_by(rank.desc(), episodes.c.id.desc())
                    .limit(self._fusion.lexical_candidates)
                )
                lexical_rows = [dict(r) for r in found.mappings()]
        fused = fuse(vector_rows, lexical_rows, self._fusion, limit=len(vector_rows) + len(lexical_rows))
        ranked = sorted(
            ((f.score * (1.0 + self._recency_weight * float(f.row["position"])), f.row) for f in fused),
            key=lambda pair: (-pair[0], -pair[1]["occurred_at"].timestamp(), -pair[1]["id"]),
        )[:limit]
        if not ranked and outcomes:
            return await self._episodic.search(
                agent, query, outcomes=outcomes, limit=limit, exclude_thread=exclude_thread
            )
        return [_stored(row, score) for score, row in ranked]

