"""The embedding-version fence and tenant isolation of the recall store, on real pgvector."""

from __future__ import annotations

import uuid

from memory.core.refs import ThreadRef
from memory.embedding.offline import OfflineEmbedder
from memory.recall.store import RecallStore


def owner(tenant: str, thread: str = "t1") -> ThreadRef:
    return ThreadRef(tenant_id=tenant, agent_id="support", thread_id=thread)


async def test_search_never_returns_another_model_or_another_tenant(runtime):
    store = RecallStore(runtime.engine)
    small, large = OfflineEmbedder(64), OfflineEmbedder(128)
    mine, theirs = f"a-{uuid.uuid4().hex[:8]}", f"b-{uuid.uuid4().hex[:8]}"
    text = "refund policy: thirty days with receipt"
    [v_small] = await small.embed([text], purpose="document")
    [v_large] = await large.embed([text], purpose="document")

    await store.write(owner(mine), idempotency_key=f"{mine}/1", text_=text, embedding=v_small, embedding_model=str(small.model_id))
    # Same tenant, same text, a different model: a different geometry the fence must keep out.
    await store.write(owner(mine), idempotency_key=f"{mine}/2", text_=text + " (v2)", embedding=v_large, embedding_model=str(large.model_id))
    await store.write(owner(theirs), idempotency_key=f"{theirs}/1", text_=text, embedding=v_small, embedding_model=str(small.model_id))

    [query] = await small.embed(["what is the refund policy"], purpose="query")
    hits = await store.search(
        owner(mine, "other").agent, query_embedding=query, embedding_model=str(small.model_id), limit=10, min_score=-1.0
    )
    assert [(h.tenant_id, h.text) for h in hits] == [(mine, text)]

    [query_large] = await large.embed(["what is the refund policy"], purpose="query")
    hits = await store.search(
        owner(mine, "other").agent, query_embedding=query_large, embedding_model=str(large.model_id), limit=10, min_score=-1.0
    )
    assert [h.text for h in hits] == [text + " (v2)"]


async def test_write_is_idempotent_per_key(runtime, thread):
    store = RecallStore(runtime.engine)
    embedder = OfflineEmbedder(64)
    [vector] = await embedder.embed(["hello"], purpose="document")
    first = await store.write(thread, idempotency_key=f"{thread.key}/x", text_="hello", embedding=vector, embedding_model=str(embedder.model_id))
    again = await store.write(thread, idempotency_key=f"{thread.key}/x", text_="hello", embedding=vector, embedding_model=str(embedder.model_id))
    assert first == again
    hits = await store.search(
        thread.model_copy(update={"thread_id": "elsewhere"}).agent,
        query_embedding=vector,
        embedding_model=str(embedder.model_id),
        limit=10,
        min_score=-1.0,
    )
    assert len(hits) == 1


async def test_a_tenant_keeps_its_model_when_the_default_changes(runtime, settings, thread):
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == settings.embedding_model
    from memory.core.tenants import TenantRegistry

    later = TenantRegistry(runtime.engine, "offline/hashed-ngrams/512")
    assert await later.current_embedding_model(thread.tenant_id) == settings.embedding_model


async def test_concurrent_first_writes_build_a_models_index_once_without_deadlock(runtime):
    import asyncio

    from sqlalchemy import text

    from memory.recall.store import ensure_index

    model = "offline/hashed-ngrams/200"
    names = await asyncio.gather(*(ensure_index(runtime.engine, model) for _ in range(4)))
    async with runtime.engine.connect() as conn:
        valid = (
            await conn.execute(
                text("SELECT x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE c.relname = :n"),
                {"n": names[0]},
            )
        ).scalars().all()
    assert len(set(names)) == 1 and valid == [True]
