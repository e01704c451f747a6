"""A turn's reads only read: nothing is inserted or upserted while the layers are read, the
recall query's embedding is billed once by the turn's commit, and the fence a worker caches
follows a switch that worker makes."""

from __future__ import annotations

from sqlalchemy import func, select

from activities.learning_models import SessionRef
from activities.registry import TurnActivitySet
from activities.turn_step_models import TurnReadInput
from memory.core.schema import tenants, usage_ledger

NEW_MODEL = "offline/hashed-ngrams/384"


async def _count(runtime, table, tenant_id: str) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))


async def test_reading_every_layer_writes_nothing_and_hands_the_query_bill_to_the_commit(runtime, thread):
    other = thread.model_copy(update={"thread_id": "earlier"})
    await runtime.recall.remember_exchange(other, 1, "Where do invoices go?", "To ap@example.com.")
    ledger_before = await _count(runtime, usage_ledger, thread.tenant_id)
    user = await runtime.conversation.append(thread, 1, "user", "Where do invoices go again?")

    read = await TurnActivitySet.wire(runtime).read.read(
        TurnReadInput(thread=thread, turn=1, query="Where do invoices go again?", user_message_id=user.id,
                      session=SessionRef(thread=thread))
    )

    assert [item.layer.value for item in read.recall] == ["recall"]
    assert {r.layer for r in read.layers} == {
        "notebook", "recall", "conversation", "graph", "skills", "episodic", "session_cache"
    }
    assert await _count(runtime, usage_ledger, thread.tenant_id) == ledger_before  # read, not billed yet
    [bill] = read.billing
    assert bill.action == "recall_embed_query" and bill.idempotency_key == f"{thread.key}/turn/1/recall_query"
    await runtime.ledger.record_many(read.billing)
    await runtime.ledger.record_many(read.billing)  # a commit that ran again
    assert await _count(runtime, usage_ledger, thread.tenant_id) == ledger_before + 1


async def test_a_fence_switch_made_by_this_worker_is_seen_by_its_next_query(runtime, thread):
    tenant = thread.tenant_id
    first = await runtime.tenants.query_embedding_model(tenant)
    assert await _count(runtime, tenants, tenant) == 1  # a new tenant is registered once, on its first read

    assert await runtime.migration.switch(tenant, first, NEW_MODEL)

    assert await runtime.tenants.query_embedding_model(tenant) == NEW_MODEL
