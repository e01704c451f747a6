"""Episodic search by meaning as well as words, on the real database: an episode found by a
paraphrase, the fence on episode vectors, and each summary embedded and billed once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from memory.core.refs import ThreadRef
from memory.core.schema import episode_embeddings, usage_ledger
from memory.core.tenants import TenantRegistry
from memory.core.usage import UsageLedger
from memory.embedding.registry import build_embedder
from memory.learning.episode_search import EpisodeSearch
from memory.learning.episodic import EpisodeRecord, EpisodicMemory, Outcome
from memory.recall.service import EmbedderPool

SEMANTIC = "wordllama/l2-supercat/256"
HASHED = "offline/hashed-ngrams/256"
NOW = datetime.now(UTC)

SUMMARIES = [
    "My sister adopted a puppy last weekend.",
    "The quarterly report is due on Friday.",
    "We repainted the kitchen walls blue.",
    "The server restarted after the kernel update.",
    "Dinner reservations are at eight tonight.",
]
PARAPHRASE = "Did anyone in the family get a new pet?"


def new_thread(thread_id: str = "t-old") -> ThreadRef:
    return ThreadRef(tenant_id=f"t-{uuid.uuid4().hex[:10]}", agent_id="support", thread_id=thread_id)


def episode_search(runtime, settings, model: str = SEMANTIC) -> EpisodeSearch:
    """Episodic search for tenants that start on `model`, wired as the runtime wires it."""
    return EpisodeSearch(
        runtime.engine,
        EpisodicMemory(runtime.engine),
        TenantRegistry(runtime.engine, model),
        EmbedderPool(lambda model_id: build_embedder(model_id, settings)),
        UsageLedger(runtime.engine),
    )


async def record(search: EpisodeSearch, thread: ThreadRef, turn: int, summary: str, *, embed: bool = True):
    key = f"{thread.key}/turn/{turn}/episode"
    stored = await EpisodicMemory(search._engine).record(
        EpisodeRecord(
            thread=thread,
            turn=turn,
            occurred_at=NOW - timedelta(days=10 - turn),
            outcome=Outcome.SUCCEEDED,
            tools_used=[],
            transcript=f"user: {summary}\nassistant: noted",
            summary=summary,
        ),
        idempotency_key=key,
    )
    if embed:
        await search.remember(stored, idempotency_key=f"{key}/embed")
    return stored


async def test_an_episode_is_found_by_meaning_when_it_shares_no_word_with_the_question(runtime, settings):
    search = episode_search(runtime, settings)
    thread = new_thread()
    for turn, summary in enumerate(SUMMARIES, start=1):
        await record(search, thread, turn, summary)

    by_words = await search.search(thread.agent, PARAPHRASE, limit=3)
    query = await search.query_vector(thread.agent, PARAPHRASE)
    by_meaning = await search.search(thread.agent, PARAPHRASE, limit=3, query_embedding=query)

    assert SUMMARIES[0] not in [e.summary for e in by_words]
    assert by_meaning[0].summary == SUMMARIES[0], [(e.summary, e.score) for e in by_meaning]
    assert 0 < by_meaning[0].score <= 1.1


async def test_words_still_win_an_exact_match_over_a_vague_neighbour(runtime, settings):
    search = episode_search(runtime, settings)
    thread = new_thread()
    await record(search, thread, 1, "Refund for order 88231-B approved after the courier lost the parcel.")
    for turn, n in enumerate(("1120", "4471", "5532", "9083"), start=2):
        await record(search, thread, turn, f"Checked the status of order {n}: packed and waiting for pickup.")

    question = "What happened with order 88231-B?"
    [first, *_] = await search.search(
        thread.agent, question, limit=3, query_embedding=await search.query_vector(thread.agent, question)
    )

    assert first.summary.startswith("Refund for order 88231-B")


async def test_episode_vectors_are_fenced_on_the_tenants_model_and_on_the_tenant(runtime, settings):
    search = episode_search(runtime, settings, SEMANTIC)
    mine = new_thread()
    # An episode whose only vector is of the old model (recorded before a switch): the
    # vector leg never compares it, though both models have 256 dimensions.
    old = await record(search, mine, 1, SUMMARIES[0], embed=False)
    [old_vector] = await build_embedder(HASHED, settings).embed([SUMMARIES[0]], purpose="document")
    async with runtime.engine.begin() as conn:
        await conn.execute(
            insert(episode_embeddings).values(
                episode_id=old.id, embedding_model=HASHED, tenant_id=mine.tenant_id, embedding=old_vector
            )
        )
    theirs = new_thread()
    await record(search, theirs, 1, SUMMARIES[0])
    query = await search.query_vector(mine.agent, PARAPHRASE)

    assert await search.search(mine.agent, PARAPHRASE, limit=5, query_embedding=query) == []
    # Its words still find it, and only in its own tenant.
    by_words = await search.search(
        mine.agent, "sister adopted a puppy", limit=5, query_embedding=await search.query_vector(mine.agent, "sister adopted a puppy")
    )
    assert [e.id for e in by_words] == [old.id]


async def test_a_summary_is_embedded_and_billed_once_per_key(runtime, settings):
    search = episode_search(runtime, settings)
    thread = new_thread()
    stored = await record(search, thread, 1, SUMMARIES[2])
    # The activity retried: nothing new is stored or billed.
    await search.remember(stored, idempotency_key=f"{thread.key}/turn/1/episode/embed")

    async with runtime.engine.connect() as conn:
        vectors = await conn.scalar(
            select(func.count()).select_from(episode_embeddings).where(episode_embeddings.c.episode_id == stored.id)
        )
        billed = await conn.scalar(
            select(func.count())
            .select_from(usage_ledger)
            .where(usage_ledger.c.tenant_id == thread.tenant_id, usage_ledger.c.action == "episode_embed")
        )
    assert (vectors, billed) == (1, 1)
