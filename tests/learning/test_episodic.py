"""Episodic memory on the real database: recording once, compressed transcripts,
"have I done this before", "what failed last time", fences, and truncation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from memory.core.refs import ThreadRef
from memory.core.schema import episodes
from memory.learning.episodic import (
    EpisodeRecord,
    EpisodicMemory,
    Outcome,
    outcome_filter,
)
from memory.prompt.manifest import Layer

NOW = datetime.now(UTC)


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def episode(
    thread: ThreadRef,
    turn: int,
    summary: str,
    *,
    outcome: Outcome = Outcome.SUCCEEDED,
    days_ago: float = 0,
    transcript: str | None = None,
) -> EpisodeRecord:
    return EpisodeRecord(
        thread=thread,
        turn=turn,
        occurred_at=NOW - timedelta(days=days_ago),
        outcome=outcome,
        tools_used=["shell"],
        transcript=transcript if transcript is not None else f"user: please help\nassistant: {summary}",
        summary=summary,
    )


async def remember(memory: EpisodicMemory, rec: EpisodeRecord):
    return await memory.record(rec, idempotency_key=f"{rec.thread.key}/turn/{rec.turn}/episode")


async def test_an_episode_recorded_twice_with_one_key_is_one_row(runtime, thread):
    memory = EpisodicMemory(runtime.engine)
    rec = episode(thread, 1, "Reset the password of the support mailbox")
    first = await memory.record(rec, idempotency_key="once")
    # A retried activity may carry a different rendering; the stored episode stands.
    retry = await memory.record(rec.model_copy(update={"summary": "something else"}), idempotency_key="once")

    assert retry == first
    assert retry.summary == "Reset the password of the support mailbox"
    async with runtime.engine.connect() as conn:
        rows = await conn.scalar(
            select(func.count()).select_from(episodes).where(episodes.c.tenant_id == thread.tenant_id)
        )
    assert rows == 1


async def test_the_transcript_is_stored_compressed_and_read_back_whole(runtime, thread):
    memory = EpisodicMemory(runtime.engine)
    transcript = "\n".join(
        f"user: step {i}: run the migration for the orders table\nassistant: done, {i} rows copied" for i in range(300)
    )
    stored = await remember(memory, episode(thread, 1, "Migrated the orders table", transcript=transcript))

    assert stored.transcript == transcript
    assert not stored.truncated
    async with runtime.engine.connect() as conn:
        blob, chars = (
            await conn.execute(
                select(episodes.c.transcript, episodes.c.transcript_chars).where(episodes.c.id == stored.id)
            )
        ).one()
    assert len(blob) < len(transcript.encode("utf-8")) // 4
    assert chars == len(transcript)


async def test_search_finds_the_past_episode_and_ranks_the_recent_one_first(runtime):
    memory = EpisodicMemory(runtime.engine, half_life_days=14)
    owner = tenant()
    old = ThreadRef(tenant_id=owner, agent_id="ops", thread_id="t-old")
    recent = ThreadRef(tenant_id=owner, agent_id="ops", thread_id="t-recent")
    summary = "Deployed the billing service to staging with helm; rolled back the canary"
    await remember(memory, episode(old, 2, summary, days_ago=60))
    await remember(memory, episode(recent, 3, summary, days_ago=2))
    await remember(memory, episode(recent, 4, "Answered a question about holiday opening hours", days_ago=1))

    hits = await memory.search(old.agent, "How do I deploy billing to staging again?", limit=5)

    assert [(h.thread.thread_id, h.turn) for h in hits] == [("t-recent", 3), ("t-old", 2)]
    assert hits[0].score > hits[1].score > 0
    item = hits[0].context_item()
    assert item.layer is Layer.EPISODIC
    assert item.source_id == hits[0].id
    assert item.label == "episode: thread t-recent, turn 3 (succeeded)"


async def test_the_current_threads_own_episodes_are_left_to_its_tail(runtime, thread):
    memory = EpisodicMemory(runtime.engine)
    elsewhere = thread.model_copy(update={"thread_id": "earlier"})
    await remember(memory, episode(elsewhere, 1, "Rotated the api keys of the payments gateway", days_ago=5))
    await remember(memory, episode(thread, 2, "Rotated the api keys of the payments gateway"))

    hits = await memory.search(thread.agent, "rotate the payments api keys", exclude_thread=thread.thread_id)

    assert [(h.thread.thread_id, h.turn) for h in hits] == [("earlier", 1)]


def test_questions_about_failures_ask_for_failed_and_corrected_episodes():
    for question in (
        "What failed last time?",
        "what went wrong with the deploy",
        "any errors?",
        "did I make a mistake",
    ):
        assert outcome_filter(question) == {Outcome.FAILED, Outcome.CORRECTED}, question
    for question in ("how do I deploy billing", "what is the correct port"):
        assert outcome_filter(question) is None, question


async def test_an_outcome_filter_keeps_only_those_outcomes(runtime, thread):
    memory = EpisodicMemory(runtime.engine)
    await remember(memory, episode(thread, 1, "Upgraded postgres on the reporting replica", outcome=Outcome.SUCCEEDED))
    await remember(
        memory, episode(thread, 2, "Upgraded postgres on the primary; disk filled up", outcome=Outcome.FAILED)
    )
    await remember(
        memory, episode(thread, 3, "Upgraded postgres after the user said to snapshot first", outcome=Outcome.CORRECTED)
    )

    hits = await memory.search(thread.agent, "upgrade postgres", outcomes={Outcome.FAILED, Outcome.CORRECTED}, limit=5)

    assert sorted(h.outcome for h in hits) == [Outcome.CORRECTED, Outcome.FAILED]


async def test_what_failed_last_time_answers_without_a_shared_word(runtime, thread):
    memory = EpisodicMemory(runtime.engine)
    await remember(
        memory,
        episode(thread, 1, "Certificate renewal for the api gateway was rejected", outcome=Outcome.FAILED, days_ago=10),
    )
    await remember(
        memory, episode(thread, 2, "Migration of the orders table aborted halfway", outcome=Outcome.FAILED, days_ago=3)
    )
    await remember(memory, episode(thread, 3, "Exported the quarterly invoices", outcome=Outcome.SUCCEEDED, days_ago=1))

    question = "what failed last time?"
    [latest] = await memory.search(thread.agent, question, outcomes=outcome_filter(question), limit=1)

    assert latest.summary == "Migration of the orders table aborted halfway"
    assert latest.outcome is Outcome.FAILED


async def test_another_tenants_and_another_agents_episodes_are_never_returned(runtime):
    memory = EpisodicMemory(runtime.engine)
    mine = ThreadRef(tenant_id=tenant(), agent_id="support", thread_id="t1")
    other_agent = mine.model_copy(update={"agent_id": "sales"})
    other_tenant = ThreadRef(tenant_id=tenant(), agent_id="support", thread_id="t1")
    summary = "Refunded an order paid twice by card"
    own = await remember(memory, episode(mine, 1, summary, outcome=Outcome.FAILED))
    theirs = [
        await remember(memory, episode(other_agent, 1, summary, outcome=Outcome.FAILED)),
        await remember(memory, episode(other_tenant, 1, summary, outcome=Outcome.FAILED)),
    ]

    hits = await memory.search(mine.agent, "refund an order paid twice", limit=10)
    failures = await memory.search(mine.agent, "what went wrong", outcomes={Outcome.FAILED}, limit=10)
    hydrated = await memory.by_id(mine.agent, [t.id for t in theirs] + [own.id])

    assert [h.id for h in hits] == [own.id]
    assert [h.id for h in failures] == [own.id]
    assert [h.id for h in hydrated] == [own.id]


async def test_truncation_keeps_summaries_drops_transcripts_and_counts_per_tenant(runtime):
    memory = EpisodicMemory(runtime.engine)
    a = ThreadRef(tenant_id=tenant(), agent_id="support", thread_id="t1")
    b = ThreadRef(tenant_id=tenant(), agent_id="support", thread_id="t1")
    old_a = [
        await remember(memory, episode(a, 1, "Closed the duplicate tickets of the spring sale", days_ago=120)),
        await remember(memory, episode(a, 2, "Merged the customer records of the spring sale", days_ago=100)),
    ]
    recent_a = await remember(memory, episode(a, 3, "Sent the spring sale survey", days_ago=10))
    old_b = await remember(memory, episode(b, 1, "Archived last year's invoices", days_ago=95))

    counts = await memory.truncate_before(NOW - timedelta(days=90), batch_size=1)

    assert (counts.get(a.tenant_id), counts.get(b.tenant_id)) == (2, 1)
    after = {e.id: e for e in await memory.by_id(a.agent, [e.id for e in old_a] + [recent_a.id])}
    for before in old_a:
        assert after[before.id].truncated and after[before.id].transcript is None
        assert after[before.id].summary == before.summary
    assert not after[recent_a.id].truncated and after[recent_a.id].transcript == recent_a.transcript
    [b_after] = await memory.by_id(b.agent, [old_b.id])
    assert b_after.transcript is None and b_after.summary == "Archived last year's invoices"
    # A truncated episode is still found by its summary.
    hits = await memory.search(a.agent, "duplicate tickets")
    assert [h.id for h in hits] == [old_a[0].id]

    again = await memory.truncate_before(NOW - timedelta(days=90))
    assert a.tenant_id not in again and b.tenant_id not in again
