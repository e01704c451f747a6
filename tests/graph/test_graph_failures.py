"""The graph can fail in three ways; none of them costs the user a reply or an exchange."""

from __future__ import annotations

import asyncio
import socket

from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus

from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.core.schema import (
    episodes,
    graph_episodes,
    ingestion_decisions,
    messages,
    usage_ledger,
)
from memory.embedding.offline import OfflineEmbedder
from memory.graph import GraphClientsFactory, GraphMemory
from memory.graph.offline_llm import OfflineGraphLLM
from memory.graph.service import group_of
from memory.prompt.manifest import Layer
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker
from tests.graph.test_knowledge_ingestion import PAD, ingestion_of, turn
from tests.support import LoseFirstAcknowledgement


async def rows(runtime: MemoryRuntime, table, tenant_id: str, *where) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where)
        )


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_unreachable_graph_never_delays_the_reply(own_time_skipping_env, settings, thread):
    dead = GraphMemory(f"falkor://127.0.0.1:{unused_port()}", GraphClientsFactory.offline(), connect_timeout_seconds=0.5)
    runtime = MemoryRuntime.create(settings, graph=dead)
    client = own_time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            result = await send_message(client, thread, UserMessage(text="Dana Smith works at Acme Corp." + PAD), task_queue=tq)
            ingestion = client.get_workflow_handle(exchange_ingestion_id(thread, 1))
            # The episode is queued and its ingestion keeps retrying, waiting for the graph.
            while not await rows(runtime, graph_episodes, thread.tenant_id):
                await asyncio.sleep(0.02)
            status = (await ingestion.describe()).status
            await ingestion.terminate("test over")
    finally:
        await runtime.close()

    assert result.reply.startswith("[offline model")
    assert not [item for item in result.manifest if item.layer == Layer.GRAPH]
    assert status == WorkflowExecutionStatus.RUNNING
    assert await rows(runtime, graph_episodes, thread.tenant_id, graph_episodes.c.status == "pending") == 1


class UnreadableExtraction(OfflineGraphLLM):
    """A model whose extraction answer does not fit graphiti's schema."""

    async def generate_response(self, messages, response_model=None, *args, **kwargs):
        return {"extracted_entities": "not a list"}


async def test_a_graphiti_failure_is_recorded_and_the_exchange_is_kept(time_skipping_env, settings, graph_url, thread):
    broken = GraphMemory(graph_url, GraphClientsFactory(UnreadableExtraction(), OfflineEmbedder(256)))
    runtime = MemoryRuntime.create(settings, graph=broken)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            result, ingestion = await turn(client, thread, "Dana Smith works at Acme Corp." + PAD, tq)
    finally:
        await runtime.close()

    assert result.reply.startswith("[offline model")
    assert ingestion.outcome == "ingest_failed" and "failed" in ingestion.detail
    async with runtime.engine.connect() as conn:
        status, error = (
            await conn.execute(
                select(graph_episodes.c.status, graph_episodes.c.error).where(graph_episodes.c.tenant_id == thread.tenant_id)
            )
        ).one()
    assert status == "failed" and "ValidationError" in error
    assert await rows(runtime, messages, thread.tenant_id) == 2


async def test_retried_ingestion_steps_duplicate_nothing(time_skipping_env, runtime, thread):
    faults = LoseFirstAcknowledgement({"episode_record", "ingestion_decide", "graph_queue_exchange", "graph_ingest"})
    client = time_skipping_env.client
    async with running_worker(client, runtime, interceptors=[faults]) as tq:
        result = await send_message(client, thread, UserMessage(text="Dana Smith works at Acme Corp." + PAD), task_queue=tq)
        ingestion = await ingestion_of(client, thread, result.turn)

    assert sorted(faults.lost) == ["episode_record", "graph_ingest", "graph_queue_exchange", "ingestion_decide"]
    assert ingestion.outcome == "ingested"
    assert await rows(runtime, ingestion_decisions, thread.tenant_id) == 1
    assert await rows(runtime, graph_episodes, thread.tenant_id) == 1
    assert await rows(runtime, episodes, thread.tenant_id) == 1
    assert await rows(runtime, usage_ledger, thread.tenant_id, usage_ledger.c.action == "episode_summary") == 1
    facts = await runtime.knowledge.graph.facts(group_of(thread.tenant_id))
    assert [f.fact for f in facts] == ["Dana Smith works at Acme Corp."]
    assert sorted(await runtime.knowledge.graph.entity_names(group_of(thread.tenant_id))) == ["Acme Corp", "Dana Smith"]
