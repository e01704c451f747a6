"""memory/learning/session_cache.py on a real Redis, with its audit sample in a real Postgres."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from prometheus_client import REGISTRY

from memory.core.db import create_engine
from memory.core.validation import InvalidInput
from memory.learning.cache_audit import CacheAudit
from memory.learning.command_form import CommandNormalizer
from memory.learning.session_cache import (
    CacheEntryNotFound,
    SessionCache,
    SessionContext,
)


@pytest.fixture
def ctx(thread) -> SessionContext:
    return SessionContext(tenant_id=thread.tenant_id, agent_id="support", project="billing", session_id="s-1")


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def cache(redis_url):
    cache = SessionCache(redis_url, ttl_seconds=3600, normalizer=CommandNormalizer())
    yield cache
    await cache.close()


@pytest.fixture
async def audited(redis_url, engine):
    """A cache that copies every substitution it serves to the audit table."""
    cache = SessionCache(redis_url, ttl_seconds=3600, normalizer=CommandNormalizer(),
                         audit=CacheAudit(engine), audit_fraction=1.0)
    yield cache
    await cache.close()


def counted(tenant: str) -> tuple[float, float]:
    lookups = REGISTRY.get_sample_value("agent_session_cache_lookups_total", {"tenant": tenant}) or 0.0
    hits = REGISTRY.get_sample_value("agent_session_cache_hits_total", {"tenant": tenant}) or 0.0
    return lookups, hits


async def test_a_recorded_substitution_is_served_for_the_rest_of_the_session(cache, ctx):
    assert await cache.lookup(ctx) == []

    learned = await cache.record(ctx, tried="pip install requests", instead="uv add requests",
                                 source="tool_recovery", tool="shell")
    await cache.record(ctx, tried="cat README", instead="cat README.md", source="correction", operator="alice")

    served = await cache.lookup(ctx)
    # Ordered by command key, so the prompt block reads the same every turn.
    assert [(s.tried, s.instead, s.source) for s in served] == [
        ("cat README", "cat README.md", "correction"),
        ("pip install requests", "uv add requests", "tool_recovery"),
    ]
    assert served[0].operator == "alice" and served[1].tool == "shell"
    assert served[1].command_key == learned.command_key == "pip install requests"
    assert learned.recorded_at < learned.expires_at
    assert (await cache.get(ctx, "pip  install requests")).instead == "uv add requests"


async def test_spelling_variants_of_a_command_find_its_substitution(cache, ctx):
    await cache.record(ctx, tried="ls -la  /tmp", instead="ls -la /var/tmp", source="tool_recovery")

    for variant in ["ls -a -l /tmp", "ls  -l -a /tmp", "ls -al '/tmp'", "ls /tmp -la"]:
        hit = await cache.lookup_command(ctx, variant)
        assert hit is not None and hit.instead == "ls -la /var/tmp", variant
    assert await cache.lookup_command(ctx, "ls -la /var") is None
    assert await cache.lookup_command(ctx, "ls -l /tmp") is None


async def test_recording_the_same_command_again_keeps_the_newer_correction(cache, ctx):
    await cache.record(ctx, tried="make test", instead="make check", source="tool_recovery")
    await cache.record(ctx, tried="make  test", instead="uv run pytest", source="correction", operator="bob")

    served = await cache.lookup(ctx)
    assert [(s.tried, s.instead, s.operator) for s in served] == [("make  test", "uv run pytest", "bob")]


async def test_the_ttl_runs_from_the_last_thing_the_session_learned(redis_url, ctx):
    cache = SessionCache(redis_url, ttl_seconds=2, normalizer=CommandNormalizer())
    try:
        assert await cache.ttl_seconds_left(ctx) is None
        first = await cache.record(ctx, tried="cat a", instead="cat b", source="tool_recovery")
        assert await cache.ttl_seconds_left(ctx) in (1, 2)
        await asyncio.sleep(1.2)
        await cache.record(ctx, tried="cat c", instead="cat d", source="tool_recovery")
        assert await cache.ttl_seconds_left(ctx) == 2

        await asyncio.sleep(1.2)
        # 2.4 s after it was learned, the first entry lives on with its session.
        kept = await cache.get(ctx, "cat a")
        assert kept.instead == "cat b" and kept.expires_at > first.expires_at

        await asyncio.sleep(1.0)
        assert await cache.lookup(ctx) == []
        assert await cache.ttl_seconds_left(ctx) is None
        with pytest.raises(CacheEntryNotFound, match="expired or never existed"):
            await cache.get(ctx, "cat a")
    finally:
        await cache.close()


async def test_lookups_and_hits_are_counted_for_the_tenant(cache, ctx, thread, caplog):
    other = SessionContext(tenant_id=f"{thread.tenant_id}-x", agent_id="support", session_id="s-1")
    before, before_other = counted(ctx.tenant_id), counted(other.tenant_id)

    await cache.lookup(ctx)  # nothing learned yet: a lookup, no hit
    await cache.record(ctx, tried="cat a", instead="cat b", source="tool_recovery")
    with caplog.at_level(logging.DEBUG, logger="memory.learning.session_cache"):
        await cache.lookup(ctx)
    await cache.lookup_command(ctx, "cat  a")
    await cache.lookup_command(ctx, "cat z")
    # Showing or acting on entries (an operator, codify) is not serving them.
    await cache.get(ctx, "cat a")
    assert [e.tried for e in await cache.entries(ctx)] == ["cat a"]

    lookups, hits = counted(ctx.tenant_id)
    assert (lookups - before[0], hits - before[1]) == (4, 2)
    assert counted(other.tenant_id) == before_other
    hit_lines = [r.getMessage() for r in caplog.records if "hit" in r.getMessage()]
    assert len(hit_lines) == 1
    assert all(part in hit_lines[0] for part in (ctx.tenant_id, "support", "s-1"))


async def test_with_audit_fraction_one_every_served_substitution_is_sampled(audited, engine, ctx):
    audit = CacheAudit(engine)
    await audited.lookup(ctx)  # a miss is never sampled
    await audited.record(ctx, tried="cat a", instead="cat b", source="tool_recovery")
    await audited.record(ctx, tried="cat c", instead="cat d", source="correction")

    await audited.lookup(ctx)
    await audited.lookup_command(ctx, "cat  a")
    await audited.flush()  # samples are written beside the lookup, not in it

    pending = await audit.pending(ctx.tenant_id)
    assert sorted((e.tried, e.instead, e.review_status) for e in pending) == [
        ("cat a", "cat b", "pending"),
        ("cat a", "cat b", "pending"),
        ("cat c", "cat d", "pending"),
    ]
    assert {(e.agent_id, e.session_id, e.context_hash) for e in pending} == {("support", "s-1", ctx.context_hash)}


async def test_with_audit_fraction_zero_nothing_is_sampled(redis_url, engine, ctx):
    cache = SessionCache(redis_url, ttl_seconds=3600, normalizer=CommandNormalizer(),
                         audit=CacheAudit(engine), audit_fraction=0.0, rng=random.Random(1))
    try:
        await cache.record(ctx, tried="cat a", instead="cat b", source="tool_recovery")
        for _ in range(20):
            assert len(await cache.lookup(ctx)) == 1
    finally:
        await cache.close()
    assert await CacheAudit(engine).pending(ctx.tenant_id) == []


async def test_a_failing_audit_costs_the_sample_not_the_lookup(redis_url, ctx, caplog):
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/nowhere", pool_size=1)
    cache = SessionCache(redis_url, ttl_seconds=3600, normalizer=CommandNormalizer(),
                         audit=CacheAudit(unreachable), audit_fraction=1.0)
    try:
        await cache.record(ctx, tried="cat a", instead="cat b", source="tool_recovery")
        with caplog.at_level(logging.WARNING, logger="memory.learning.session_cache"):
            assert [s.instead for s in await cache.lookup(ctx)] == ["cat b"]
            await cache.flush()
    finally:
        await cache.close()
        await unreachable.dispose()
    assert any("audit write failed" in r.getMessage() for r in caplog.records)


async def test_another_tenant_agent_project_or_session_sees_nothing(cache, ctx, thread):
    await cache.record(ctx, tried="cat a", instead="cat b", source="tool_recovery")
    others = [
        ctx.model_copy(update={"tenant_id": f"{thread.tenant_id}-other"}),
        ctx.model_copy(update={"agent_id": "sales"}),
        ctx.model_copy(update={"project": "default"}),
        ctx.model_copy(update={"session_id": "s-2"}),
    ]
    for other in others:
        assert await cache.lookup(other) == [], other
        assert await cache.lookup_command(other, "cat a") is None
        with pytest.raises(CacheEntryNotFound):
            await cache.get(other, "cat a")
    assert len({other.context_hash for other in others[:3]} | {ctx.context_hash}) == 4
    assert len(await cache.lookup(ctx)) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tried": "  "}, "tried is empty"),
        ({"instead": ""}, "instead is empty"),
        ({"instead": "x" * 2001}, "instead is 2001 characters; the limit is 2000"),
        ({"tried": "cat a\x00b"}, "tried contains a NUL byte"),
        ({"source": "guess"}, "substitution refused"),
        ({"tool": ""}, "tool is empty"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(cache, ctx, change, message):
    entry = {"tried": "cat a", "instead": "cat b", "source": "tool_recovery", **change}
    with pytest.raises(InvalidInput, match=message):
        await cache.record(ctx, **entry)
    assert await cache.lookup(ctx) == []
    assert await cache.ttl_seconds_left(ctx) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"tenant_id": "Acme"}, "tenant id 'Acme' is malformed"),
        ({"session_id": "a/b"}, "session id 'a/b' is malformed"),
        ({"project": ""}, "project must be 1-100 characters"),
        ({"project": "p" * 101}, "project must be 1-100 characters"),
        ({"project": "a\nb"}, "project contains a control character"),
    ],
)
def test_a_malformed_context_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        SessionContext(**{"tenant_id": "acme", "agent_id": "support", "session_id": "s-1", **fields})


def test_a_cache_that_would_sample_without_an_audit_store_is_refused(redis_url):
    with pytest.raises(InvalidInput, match="no audit store"):
        SessionCache(redis_url, ttl_seconds=60, normalizer=CommandNormalizer(), audit_fraction=0.5)
