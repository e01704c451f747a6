"""The embedding-model migration as a workflow: batches, continue-as-new, verification, one
switch of the fence, self-pause on an outage, and refusals of bad requests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from falkordb import FalkorDB
from sqlalchemy import func, select
from temporalio.client import WorkflowFailureError, WorkflowHandle

from clients import migrate
from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.migration import (
    FenceChange,
    MigrationRequest,
    MigrationStart,
    migration_id,
)
from memory.core.refs import ThreadRef
from memory.core.schema import recall_embeddings, recall_items, usage_ledger
from memory.embedding.base import EmbeddingUnavailable
from memory.embedding.offline import OfflineEmbedder
from memory.graph import GraphEpisode, episode_uuid
from memory.graph.service import group_of
from memory.prompt.manifest import Layer
from memory.recall.service import EmbedderPool
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker
from workflows.fence import EmbeddingFenceWorkflow
from workflows.migration import EmbeddingMigrationWorkflow

OLD, NEW = "offline/hashed-ngrams/256", "offline/hashed-ngrams/384"


async def seed(runtime: MemoryRuntime, thread: ThreadRef, rows: int) -> None:
    for turn in range(1, rows + 1):
        await runtime.recall.remember_exchange(thread, turn, f"Question {turn} about the Rotterdam warehouse", f"Answer {turn}")


async def vectors_per_item(runtime: MemoryRuntime, tenant_id: str, model: str) -> list[int]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(func.count(recall_embeddings.c.item_id))
            .select_from(recall_items.outerjoin(
                recall_embeddings,
                (recall_embeddings.c.item_id == recall_items.c.id) & (recall_embeddings.c.embedding_model == model),
            ))
            .where(recall_items.c.tenant_id == tenant_id)
            .group_by(recall_items.c.id)
        )
        return [count for (count,) in rows]


async def start_migration(client, tenant_id: str, tq: str, *, paused: bool = False, **request) -> WorkflowHandle:
    """The tenant's migration to NEW; paused from its first step, it is still running when the test acts."""
    return await client.start_workflow(
        EmbeddingMigrationWorkflow.run,
        MigrationStart(request=MigrationRequest(tenant_id=tenant_id, to_model=NEW, **request)),
        id=migration_id(tenant_id),
        task_queue=tq,
        start_signal="pause" if paused else None,
    )


async def migrate_to(client, tenant_id: str, tq: str, **request) -> object:
    return await (await start_migration(client, tenant_id, tq, **request)).result()


async def test_a_migration_re_embeds_everything_then_switches_the_fence_once(time_skipping_env, runtime, thread):
    await seed(runtime, thread, 25)
    await seed_graph(runtime, thread)
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        result = await migrate_to(client, thread.tenant_id, tq, batch_size=7, batches_per_run=2)
        history = await client.get_workflow_handle(migration_id(thread.tenant_id)).fetch_history()

    assert result.outcome == "switched" and result.rows == 25 and result.graph_items > 0
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == NEW
    assert await vectors_per_item(runtime, thread.tenant_id, NEW) == [1] * 25
    assert await vectors_per_item(runtime, thread.tenant_id, OLD) == [1] * 25  # kept for a rollback
    assert await runtime.knowledge.graph.graph_model(group_of(thread.tenant_id)) == NEW
    async with runtime.engine.connect() as conn:
        billed = await conn.scalar(
            select(func.count()).select_from(usage_ledger).where(
                usage_ledger.c.tenant_id == thread.tenant_id, usage_ledger.c.action == "recall_embed_migration"
            )
        )
    assert billed == 4 + 1  # 25 rows in batches of 7, and the verification sample
    # The last run was continued from an earlier one: batches_per_run kept each run small.
    assert history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id


async def test_bad_migration_requests_are_refused_clearly(time_skipping_env, runtime, thread, capsys):
    await seed(runtime, thread, 3)
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        with pytest.raises(WorkflowFailureError) as unknown:
            await client.execute_workflow(
                EmbeddingMigrationWorkflow.run,
                MigrationStart(request=MigrationRequest(tenant_id=thread.tenant_id, to_model="nosuch/model/8")),
                id=f"bad-{uuid.uuid4().hex[:6]}",
                task_queue=tq,
            )
        with pytest.raises(WorkflowFailureError) as same:
            await client.execute_workflow(
                EmbeddingMigrationWorkflow.run,
                MigrationStart(request=MigrationRequest(tenant_id=thread.tenant_id, to_model=OLD)),
                id=f"bad-{uuid.uuid4().hex[:6]}",
                task_queue=tq,
            )
        # Paused from its start, so it is still running when the second request comes.
        await start_migration(client, thread.tenant_id, tq, paused=True)
        second = await migrate.start(client, thread.tenant_id, NEW, "bob", tq)
        await client.get_workflow_handle(migration_id(thread.tenant_id)).signal(EmbeddingMigrationWorkflow.cancel)
        cancelled = await client.get_workflow_handle_for(EmbeddingMigrationWorkflow.run, migration_id(thread.tenant_id)).result()

    assert "nosuch" in str(unknown.value.cause.cause or unknown.value.cause)
    assert OLD in str(same.value.cause.cause or same.value.cause)
    assert second == 1 and migration_id(thread.tenant_id) in capsys.readouterr().err
    assert cancelled.outcome == "cancelled"
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == OLD


class FlakyProvider(EmbedderPool):
    """The new model's provider is down until told otherwise."""

    def __init__(self) -> None:
        super().__init__(lambda model_id: OfflineEmbedder(int(model_id.rsplit("/", 1)[1])))
        self.down = True

    def get(self, model_id: str):
        embedder = super().get(model_id)
        if model_id != NEW:
            return embedder
        pool = self

        class Down:
            model_id = embedder.model_id

            async def embed(self, texts, *, purpose):
                if pool.down:
                    raise EmbeddingUnavailable("503 from the provider (injected)")
                return await embedder.embed(texts, purpose=purpose)

        return Down()


async def test_a_provider_outage_pauses_the_migration_with_its_reason(own_time_skipping_env, settings, thread):
    # Skips time while work retries against the failing provider: on a server of its own, so
    # no other test's work in flight can hold its clock (nor this test's, theirs).
    time_skipping_env = own_time_skipping_env
    provider = FlakyProvider()
    runtime = MemoryRuntime.create(settings, embedders=provider)
    await seed(runtime, thread, 5)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            handle = await start_migration(client, thread.tenant_id, tq)
            while not (progress := await handle.query(EmbeddingMigrationWorkflow.progress)).paused:
                await time_skipping_env.sleep(timedelta(seconds=30))
            provider.down = False
            await handle.signal(EmbeddingMigrationWorkflow.resume)
            result = await handle.result()
    finally:
        await runtime.close()

    assert "embedding provider kept failing" in progress.pause_reason and "503" in progress.pause_reason
    assert result.outcome == "switched"
    assert await vectors_per_item(runtime, thread.tenant_id, NEW) == [1] * 5


async def test_turns_during_a_migration_see_only_current_model_rows(time_skipping_env, runtime, thread):
    await seed(runtime, thread, 10)
    other = thread.model_copy(update={"thread_id": "later"})
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        handle = await start_migration(client, thread.tenant_id, tq, batch_size=3)
        await handle.signal(EmbeddingMigrationWorkflow.pause)
        during = await send_message(client, other, UserMessage(text="What about the Rotterdam warehouse?"), task_queue=tq)
        await handle.signal(EmbeddingMigrationWorkflow.resume)
        await handle.result()
        after = await send_message(client, other, UserMessage(text="And the Rotterdam warehouse again?"), task_queue=tq)

    assert [i for i in during.manifest if i.layer == Layer.RECALL]
    assert [i for i in after.manifest if i.layer == Layer.RECALL]
    async with runtime.engine.connect() as conn:
        queried = (
            await conn.execute(
                select(usage_ledger.c.model).where(
                    usage_ledger.c.tenant_id == thread.tenant_id, usage_ledger.c.action == "recall_embed_query"
                ).order_by(usage_ledger.c.id)
            )
        ).scalars().all()
    assert queried == [OLD, NEW]


async def seed_graph(runtime: MemoryRuntime, thread: ThreadRef) -> None:
    await runtime.knowledge.graph.ingest(
        GraphEpisode(
            uuid=episode_uuid(f"{thread.tenant_id}/seed"),
            group_id=group_of(thread.tenant_id),
            name="seed",
            body="Dana Smith works at Acme Corp.",
            source="conversation",
            source_description="seed",
            reference_time=datetime.now(timezone.utc),
        )
    )


async def test_a_refused_rollback_leaves_the_graph_alone_and_turns_keep_their_graph_facts(
    time_skipping_env, runtime, thread
):
    await seed(runtime, thread, 3)
    await seed_graph(runtime, thread)
    graph, group = runtime.knowledge.graph, group_of(thread.tenant_id)
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        with pytest.raises(WorkflowFailureError) as refused:
            await client.execute_workflow(
                EmbeddingFenceWorkflow.run,
                FenceChange(action="rollback", tenant_id=thread.tenant_id, model=NEW),
                id=f"fence-{uuid.uuid4().hex[:6]}",
                task_queue=tq,
            )
        turn = await send_message(client, thread, UserMessage(text="Where does Dana Smith work these days?"), task_queue=tq)

    assert "have no vector of that model" in str(refused.value.cause.cause)
    assert await graph.graph_model(group) is None
    assert (await graph.reembed_progress(group, NEW))[0] == 0  # nothing re-embedded either
    assert [i for i in turn.manifest if i.layer == Layer.GRAPH]


async def test_a_graph_search_racing_a_promote_elsewhere_answers_without_graph_facts(
    runtime, thread, falkordb_port, caplog
):
    await seed_graph(runtime, thread)
    graph, group = runtime.knowledge.graph, group_of(thread.tenant_id)
    after = ""
    while (batch := await graph.reembed_batch(group, NEW, after=after)).last_key is not None:
        after = batch.last_key
    await graph.promote(group, NEW)
    # What a worker sees that read the graph's model just before another worker promoted it.
    db = FalkorDB(host="127.0.0.1", port=falkordb_port)
    try:
        db.select_graph(group).query(f"MATCH (f:EmbeddingFence) SET f.model = '{OLD}'")
    finally:
        db.connection.close()

    result = await runtime.knowledge.search(thread, 1, "Where does Dana Smith work?")

    assert result.facts == [] and result.short_circuited
    assert "embedding model changed" in caplog.text
