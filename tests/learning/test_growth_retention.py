"""Retention of what every turn grows: rows past their horizon go, younger ones and work
still in flight stay, scratch directories idle for long are removed, and a session's
learned substitutions are capped."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from memory.core.schema import (
    graph_episodes,
    ingestion_decisions,
    session_cache_audit,
    tool_calls,
    turn_requests,
    turns,
    usage_ledger,
)
from memory.learning.command_form import CommandNormalizer
from memory.learning.models import GrowthPolicy
from memory.learning.session_cache import SessionCache, SessionContext
from memory.prompt.assembly import (
    MAX_LEARNED_IN_PROMPT,
    ContextSources,
    LearnedEntry,
    assemble,
)

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=500)
RECENTLY = NOW - timedelta(days=1)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def key() -> str:
    return uuid.uuid4().hex


def rows(tenant: str, at: datetime) -> dict:
    """One row of each growing table for the tenant, written at `at`."""
    owner = dict(tenant_id=tenant, agent_id="support", thread_id="t1")
    return {
        turn_requests: dict(**owner, request_id=key(), turn=1, status="completed", result={}, created_at=at, finished_at=at),
        turns: dict(**owner, turn=1, status="completed", manifest=[], usage={}, idempotency_key=key(), created_at=at),
        tool_calls: dict(
            **owner, turn=1, call_id="c1", tool="run_command", arguments={"command": "ls"}, status="ok",
            output="secret", idempotency_key=key(), created_at=at,
        ),
        usage_ledger: dict(**owner, action="agent_turn", provider="offline", model="m", idempotency_key=key(), created_at=at),
        ingestion_decisions: dict(
            **owner, turn=1, source="exchange", gate="length", ingest=False, idempotency_key=key(), created_at=at
        ),
        session_cache_audit: dict(
            tenant_id=tenant, agent_id="support", session_id="t1", context_hash="h", command_key="ls -z",
            tried="ls -z", instead="ls -a", source="tool_recovery", created_at=at,
        ),
        graph_episodes: dict(
            tenant_id=tenant, group_id="g", episode_uuid=key(), source="message", source_description="d", name="n",
            body="what the user said", reference_time=at, status="ingested", idempotency_key=key(), created_at=at,
            ingested_at=at,
        ),
    }


async def counts(engine, tenant: str) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.name: await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant))
            for table in rows(tenant, NOW)
        }


async def test_every_growing_table_loses_rows_past_its_horizon_and_keeps_the_rest(runtime, settings, thread):
    tenant = thread.tenant_id
    async with runtime.engine.begin() as conn:
        for at in (LONG_AGO, RECENTLY):
            for table, values in rows(tenant, at).items():
                await conn.execute(table.insert().values(**values))
        # A turn still running is never removed, however old: its thread waits for the answer.
        await conn.execute(
            turn_requests.insert().values(
                tenant_id=tenant, agent_id="support", thread_id="t1", request_id="stuck", turn=2, created_at=LONG_AGO
            )
        )
        # Nor is an episode the graph has not taken yet.
        pending = rows(tenant, LONG_AGO)[graph_episodes] | dict(status="pending", ingested_at=None)
        await conn.execute(graph_episodes.insert().values(**pending))

    report = await runtime.retention.run(
        f"retention-{tenant}",
        episode_cutoff=EPOCH,
        recall_cutoff=EPOCH,
        growth=GrowthPolicy().horizons(NOW),
    )

    assert await counts(runtime.engine, tenant) == {
        "turn_requests": 2,
        "turns": 1,
        "tool_calls": 1,
        "usage_ledger": 1,
        "ingestion_decisions": 1,
        "session_cache_audit": 1,
        "graph_episodes": 2,
    }
    mine = next(t for t in report.tenants if t.tenant_id == tenant)
    assert mine.pruned == {
        "turn_requests": 1,
        "turns": 1,
        "tool_calls": 1,
        "usage_ledger": 1,
        "ingestion_decisions": 1,
        "session_cache_audit": 1,
        "graph_episodes": 1,
    }
    # A retried run of the same key reports the same and removes nothing more.
    again = await runtime.retention.run(
        f"retention-{tenant}", episode_cutoff=EPOCH, recall_cutoff=EPOCH, growth=GrowthPolicy().horizons(NOW)
    )
    assert next(t for t in again.tenants if t.tenant_id == tenant).pruned == mine.pruned


async def test_a_resend_is_answered_within_the_documented_window_only(runtime, thread):
    tenant = thread.tenant_id
    policy = GrowthPolicy()
    async with runtime.engine.begin() as conn:
        for days in (policy.turn_request_days - 1, policy.turn_request_days + 1):
            at = NOW - timedelta(days=days)
            await conn.execute(
                turn_requests.insert().values(
                    tenant_id=tenant, agent_id="support", thread_id="t1", request_id=f"sent-{days}-days-ago", turn=1,
                    status="completed", result={}, created_at=at, finished_at=at,
                )
            )
    await runtime.retention.run(f"retention-{tenant}", episode_cutoff=EPOCH, recall_cutoff=EPOCH, growth=policy.horizons(NOW))
    async with runtime.engine.connect() as conn:
        kept = (await conn.execute(select(turn_requests.c.request_id).where(turn_requests.c.tenant_id == tenant))).scalars().all()
    assert kept == [f"sent-{policy.turn_request_days - 1}-days-ago"]


async def test_idle_scratch_directories_are_removed_and_busy_ones_kept(runtime, settings, thread):
    tenant = thread.tenant_id
    root = settings.tool_scratch_root
    idle = os.path.join(root, tenant, "support", "old-thread")
    busy = os.path.join(root, tenant, "support", "new-thread")
    for directory in (idle, busy):
        os.makedirs(directory)
        with open(os.path.join(directory, "out.txt"), "w") as f:
            f.write("x" * 1000)
    stale = (NOW - timedelta(days=30)).timestamp()
    for path in (os.path.join(idle, "out.txt"), idle):
        os.utime(path, (stale, stale))

    report = await runtime.retention.run(
        f"retention-{tenant}", episode_cutoff=EPOCH, recall_cutoff=EPOCH, growth=GrowthPolicy().horizons(NOW)
    )

    assert not os.path.exists(idle) and os.path.exists(os.path.join(busy, "out.txt"))
    assert next(t for t in report.tenants if t.tenant_id == tenant).pruned["scratch_directories"] == 1


async def test_a_session_keeps_at_most_its_cap_of_substitutions_evicting_the_oldest(redis_url, thread):
    cache = SessionCache(redis_url, ttl_seconds=3600, normalizer=CommandNormalizer(), max_entries=5)
    ctx = SessionContext(tenant_id=thread.tenant_id, agent_id=thread.agent_id, session_id=thread.thread_id)
    try:
        for n in range(12):
            await cache.record(ctx, tried=f"cmd-{n:02d} --bad", instead=f"cmd-{n:02d}", source="tool_recovery")
        kept = await cache.entries(ctx)
    finally:
        await cache.close()
    assert sorted(entry.tried for entry in kept) == [f"cmd-{n:02d} --bad" for n in range(7, 12)]


def test_the_prompt_carries_a_bounded_number_of_learned_substitutions():
    learned = [LearnedEntry(tried=f"cmd-{n:03d} --bad", instead=f"cmd-{n:03d}", source="tool_recovery") for n in range(300)]
    block = assemble(ContextSources(learned=learned, user_message="hi")).system[-1].text
    assert block.count("\n- `") == MAX_LEARNED_IN_PROMPT
