"""The recall store's half of an embedding-model migration, on real pgvector: batches,
the fence switch and its rollback, cleanup, and the per-model partial index."""

from __future__ import annotations

import math
import re
import uuid

import pytest
from sqlalchemy import func, select, text

from memory.core.rate_limit import RateLimiter
from memory.core.schema import recall_embeddings, usage_ledger
from memory.core.usage import Action
from memory.core.validation import InvalidInput
from memory.embedding.migration import EmbeddingMigration
from memory.embedding.registry import build_embedder
from memory.recall.service import EmbedderPool
from memory.recall.store import index_name, search_sql

OLD, NEW = "offline/hashed-ngrams/256", "offline/hashed-ngrams/384"
ITEMS = 30


class CountingEmbedder:
    def __init__(self, inner):
        self._inner = inner
        self.model_id = inner.model_id
        self.calls = 0

    async def embed(self, texts, *, purpose):
        self.calls += 1
        return await self._inner.embed(texts, purpose=purpose)


@pytest.fixture
def counting(settings):
    built: dict[str, CountingEmbedder] = {}

    def factory(model_id):
        built[model_id] = CountingEmbedder(build_embedder(model_id, settings))
        return built[model_id]

    return EmbedderPool(factory), built


@pytest.fixture
def migration(runtime, counting):
    pool, _ = counting
    return EmbeddingMigration(runtime.engine, runtime.tenants, pool, runtime.ledger, requests_per_second=1000)


async def seed(runtime, thread, n=ITEMS):
    for turn in range(n):
        place = thread.model_copy(update={"thread_id": f"thread-{turn % 3}"})
        await runtime.recall.remember_exchange(place, turn, f"question {turn}: how do refunds work", f"answer {turn}")


async def vectors_per_item(runtime, tenant_id, model):
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(recall_embeddings.c.item_id, func.count())
            .where(recall_embeddings.c.tenant_id == tenant_id, recall_embeddings.c.embedding_model == model)
            .group_by(recall_embeddings.c.item_id)
        )
        return dict(rows.all())


async def migration_ledger_rows(runtime, tenant_id):
    async with runtime.engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).where(
                usage_ledger.c.tenant_id == tenant_id, usage_ledger.c.action == Action.RECALL_EMBED_MIGRATION.value
            )
        )


async def run_batches(migration, tenant_id, size=8):
    batches, after = [], 0
    while (bounds := await migration.next_batch(tenant_id, after_id=after, size=size)) is not None:
        batches.append(await migration.embed_batch(tenant_id, NEW, bounds.first_id, bounds.last_id))
        after = bounds.last_id
    return batches


def cosine(a, b):
    return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


async def test_plan_refuses_unknown_malformed_and_current_models_and_counts_rows(runtime, migration, thread):
    await seed(runtime, thread, 5)
    with pytest.raises(InvalidInput, match="unknown model 'nosuch/x/8'"):
        await migration.plan(thread.tenant_id, "nosuch/x/8")
    with pytest.raises(InvalidInput, match="unknown model"):
        await migration.plan(thread.tenant_id, "offline/other-model/64")
    with pytest.raises(InvalidInput, match="malformed model id"):
        await migration.plan(thread.tenant_id, "not a model")
    with pytest.raises(InvalidInput, match=f"already on {OLD}"):
        await migration.plan(thread.tenant_id, OLD)
    plan = await migration.plan(thread.tenant_id, NEW)
    assert (plan.from_model, plan.to_model, plan.total_rows) == (OLD, NEW, 5)


async def test_an_unknown_tenant_is_refused_and_not_registered(runtime, migration):
    stranger = f"nobody-{uuid.uuid4().hex[:8]}"
    with pytest.raises(InvalidInput, match=f"unknown tenant {stranger}"):
        await migration.plan(stranger, NEW)
    with pytest.raises(InvalidInput, match=f"unknown tenant {stranger}"):
        await migration.check_rollback(stranger, OLD)
    assert await runtime.tenants.known_embedding_model(stranger) is None


async def test_a_rollback_is_checked_without_moving_anything(runtime, migration, thread):
    await seed(runtime, thread, 4)
    assert await migration.check_rollback(thread.tenant_id, OLD) is False  # already there
    with pytest.raises(InvalidInput, match="4 of 4 items have no vector of that model"):
        await migration.check_rollback(thread.tenant_id, NEW)
    await run_batches(migration, thread.tenant_id)
    assert await migration.check_rollback(thread.tenant_id, NEW) is True
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == OLD


async def test_batches_embed_every_row_once_and_a_retry_embeds_nothing(runtime, migration, counting, thread):
    await seed(runtime, thread)
    _, built = counting
    batches = await run_batches(migration, thread.tenant_id)
    assert [b.embedded for b in batches] == [8, 8, 8, 6]
    calls = built[NEW].calls
    assert calls == len(batches)

    # A retried activity: the same bounds again.
    again = await migration.embed_batch(thread.tenant_id, NEW, batches[1].first_id, batches[1].last_id)
    assert (again.embedded, again.already_present) == (0, 8)
    assert built[NEW].calls == calls
    counts = await vectors_per_item(runtime, thread.tenant_id, NEW)
    assert len(counts) == ITEMS and set(counts.values()) == {1}
    assert await migration_ledger_rows(runtime, thread.tenant_id) == len(batches)
    assert await migration.progress(thread.tenant_id, NEW) == (ITEMS, ITEMS)


async def test_fence_switch_rollback_and_cleanup(runtime, migration, thread):
    await seed(runtime, thread)
    plan = await migration.plan(thread.tenant_id, NEW)
    await migration.ensure_index(NEW)
    await run_batches(migration, thread.tenant_id)
    old_embedder, new_embedder = build_embedder(OLD, runtime.settings), build_embedder(NEW, runtime.settings)
    query = "how do refunds work"
    [q_old] = await old_embedder.embed([query], purpose="query")
    [q_new] = await new_embedder.embed([query], purpose="query")
    agent = thread.agent
    store = runtime.recall.store

    # Still fenced on the old model: its rows only, each item once, scored in its geometry.
    hits = await runtime.recall.search(thread.model_copy(update={"thread_id": "elsewhere"}), 100, query)
    assert hits and len({h.id for h in hits}) == len(hits)
    # The fused score is relative; the vector leg's own score shows the geometry.
    [nearest] = await store.search(agent, query_embedding=q_old, embedding_model=OLD, limit=1, min_score=-1.0)
    [stored] = await old_embedder.embed([nearest.text], purpose="document")
    assert nearest.score == pytest.approx(cosine(q_old, stored), abs=1e-4)
    with pytest.raises(Exception, match="dimensions"):
        await store.search(agent, query_embedding=q_new, embedding_model=OLD, limit=5, min_score=-1.0)

    report = await migration.verify(thread.tenant_id, NEW, sample=5)
    assert (report.total, report.with_vector, report.missing, report.sampled, report.ok) == (ITEMS, ITEMS, 0, 5, True)
    assert report.max_distance < 1e-4

    assert await migration.switch(thread.tenant_id, plan.from_model, NEW) is True
    assert await migration.switch(thread.tenant_id, plan.from_model, NEW) is False
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == NEW
    hits = await runtime.recall.search(thread.model_copy(update={"thread_id": "elsewhere"}), 101, query)
    assert hits and len({h.id for h in hits}) == len(hits)
    [nearest] = await store.search(agent, query_embedding=q_new, embedding_model=NEW, limit=1, min_score=-1.0)
    [stored] = await new_embedder.embed([nearest.text], purpose="document")
    assert nearest.score == pytest.approx(cosine(q_new, stored), abs=1e-4)

    with pytest.raises(InvalidInput, match="current model"):
        await migration.cleanup(thread.tenant_id, NEW)
    await migration.rollback(thread.tenant_id, OLD)
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == OLD
    assert await migration.switch(thread.tenant_id, OLD, NEW) is True

    assert await migration.cleanup(thread.tenant_id, OLD) == ITEMS
    assert await vectors_per_item(runtime, thread.tenant_id, OLD) == {}
    with pytest.raises(InvalidInput, match="30 of 30 items have no vector"):
        await migration.rollback(thread.tenant_id, OLD)
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == NEW
    assert await runtime.recall.search(thread.model_copy(update={"thread_id": "elsewhere"}), 102, query)


async def test_verify_reports_missing_rows(runtime, migration, thread):
    await seed(runtime, thread, 6)
    bounds = await migration.next_batch(thread.tenant_id, after_id=0, size=4)
    await migration.embed_batch(thread.tenant_id, NEW, bounds.first_id, bounds.last_id)
    assert await migration.progress(thread.tenant_id, NEW) == (4, 6)
    report = await migration.verify(thread.tenant_id, NEW)
    assert (report.missing, report.ok) == (2, False)
    with pytest.raises(InvalidInput):
        await migration.rollback(thread.tenant_id, NEW)


def _generic(sql: str) -> str:
    """The search SQL with positional parameters, as a prepared statement's generic plan sees it."""
    for n, name in enumerate(("query", "tenant_id", "agent_id", "exclude_thread_id", "limit", "user_id"), start=1):
        sql = sql.replace(f":{name}", f"${n}")
    return sql


async def explain(runtime, sql: str) -> str:
    async with runtime.engine.begin() as conn:
        # Take the cheap alternatives off the table, so the plan shows whether the partial
        # index can be used at all, whatever the shared test database holds.
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            await conn.execute(text(f"SET LOCAL {setting} = off"))
        rows = await conn.exec_driver_sql("EXPLAIN (GENERIC_PLAN) " + sql)
        return "\n".join(row[0] for row in rows)


async def test_the_search_uses_the_models_partial_index_only_with_the_model_as_a_literal(runtime, migration, thread):
    await seed(runtime, thread, 3)
    name = await migration.ensure_index(OLD)
    assert name == index_name(OLD) and len(name) <= 63 and re.fullmatch(r"ix_recall_hnsw_[a-z0-9_]+_[0-9a-f]{8}", name)
    assert await migration.ensure_index(OLD) == name  # IF NOT EXISTS

    sql = search_sql(OLD)
    assert f"e.embedding_model = '{OLD}'" in sql
    plan = await explain(runtime, _generic(sql))
    assert f"Index Scan using {name}" in plan

    # The same query with the model as a bound parameter: a generic plan cannot prove
    # the partial index's predicate, so it cannot use the index.
    bound = _generic(sql).replace(f"'{OLD}'", "$7")
    plan = await explain(runtime, bound)
    assert name not in plan and "hnsw" not in plan


async def test_search_sets_iterative_scan_per_transaction_only(runtime, thread):
    await seed(runtime, thread, 3)
    await runtime.recall.search(thread.model_copy(update={"thread_id": "elsewhere"}), 50, "refunds")
    async with runtime.engine.connect() as conn:
        value = await conn.scalar(text("SELECT current_setting('hnsw.iterative_scan', true)"))
    assert value in (None, "", "off")


async def test_cleanup_and_ensure_index_refuse_malformed_models(migration, thread):
    with pytest.raises(InvalidInput):
        await migration.cleanup(thread.tenant_id, "x'; drop table tenants; --")
    with pytest.raises(InvalidInput):
        await migration.ensure_index("x'/y/1")


async def test_rate_limiter_spaces_calls_per_key():
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2.0, burst=1, clock=lambda: now[0], sleep=sleep)
    await limiter.acquire("voyage")
    await limiter.acquire("openai")  # another key has its own bucket
    assert slept == []
    await limiter.acquire("voyage")
    assert slept == [pytest.approx(0.5)]
