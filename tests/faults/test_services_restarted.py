"""A store the worker depends on stops in the middle of a turn and starts again.

Postgres (every memory write) and Redis (the session cache) are on the turn's path: the
turn waits, its activities retrying with backoff, and completes once the server is back,
with nothing lost or stored twice. The graph is not: the reply arrives while the graph is
down, and the exchange's ingestion catches up after the restart.

Each test stops servers of its own, never the session's shared ones.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.core.config import Settings
from memory.core.schema import (
    graph_episodes,
    messages,
    recall_items,
    turns,
    usage_ledger,
)
from memory.graph.service import group_of
from memory.prompt.manifest import Layer
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker
from tests.faults.model_faults import HeldModel
from tests.faults.probes import Attempts, Hold
from tests.faults.services import OwnFalkorDB, OwnPostgres
from tests.graph.test_knowledge_ingestion import PAD, ingestion_of


@pytest.fixture(scope="module")
def own_postgres(tmp_path_factory):
    postgres = OwnPostgres(tmp_path_factory.mktemp("own-pg"))
    yield postgres
    postgres.close()


@pytest.fixture
def own_falkordb(tmp_path):
    server = OwnFalkorDB(tmp_path / "falkordb")
    server.directory.mkdir()
    server.start()
    yield server
    server.stop()


async def count(runtime, table, tenant_id: str, *where) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where))


async def assert_one_turn_stored(runtime, tenant_id: str, text: str, reply: str) -> None:
    async with runtime.engine.connect() as conn:
        stored = (
            await conn.execute(select(messages.c.turn, messages.c.role, messages.c.content).where(messages.c.tenant_id == tenant_id))
        ).all()
    assert sorted(stored) == [(1, "assistant", reply), (1, "user", text)]
    assert await count(runtime, recall_items, tenant_id) == 1
    assert await count(runtime, turns, tenant_id, turns.c.status == "completed") == 1
    assert await count(runtime, turns, tenant_id) == 1
    assert await count(runtime, usage_ledger, tenant_id, usage_ledger.c.action == "agent_turn") == 1


async def test_postgres_stopped_while_the_model_answers_and_started_again(
    dev_env, own_postgres, graph_url, redis_url, tmp_path, thread
):
    settings = Settings(
        database_url=own_postgres.url, graph_url=graph_url, redis_url=redis_url, tool_scratch_root=str(tmp_path / "scratch")
    )
    model = HeldModel()
    attempts = Attempts()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = dev_env.client
    text = "What is the status of order 4471?"
    try:
        async with running_worker(client, runtime, interceptors=[attempts]) as tq:
            reply = asyncio.create_task(send_message(client, thread, UserMessage(text=text), task_queue=tq))
            await asyncio.wait_for(model.reached.wait(), 30)
            await asyncio.to_thread(own_postgres.stop)
            model.release.set()
            # The model answered, but its usage could not be written: the call fails and is
            # retried (and fails again while the database is down).
            await attempts.until_failed("model_generate", times=2)
            assert not reply.done()
            await asyncio.to_thread(own_postgres.start)
            result = await asyncio.wait_for(reply, 60)
        await assert_one_turn_stored(runtime, thread.tenant_id, text, result.reply)
    finally:
        await runtime.close()

    assert result.turn == 1 and result.reply.startswith("[offline model")
    # Pooled connections are not pinged on checkout: the first attempt meets the connection
    # the shutdown closed (AdminShutdown), the next ones find no server, until it is back.
    errors = [a.error for a in attempts.failed("model_generate")]
    assert errors[0].startswith(("AdminShutdown", "OperationalError")), errors
    assert any("OperationalError" in e for e in errors[1:]), errors
    assert model.agent_calls >= 2  # answered again after the restart, stored and billed once


async def test_the_graph_restarting_never_delays_a_reply_and_ingestion_catches_up(
    dev_env, own_falkordb, database_url, redis_url, tmp_path, thread
):
    settings = Settings(
        database_url=database_url, graph_url=own_falkordb.url, redis_url=redis_url, tool_scratch_root=str(tmp_path / "scratch")
    )
    attempts = Attempts()
    runtime = MemoryRuntime.create(settings)
    client = dev_env.client
    group = group_of(thread.tenant_id)
    try:
        async with running_worker(client, runtime, interceptors=[attempts]) as tq:
            first = await send_message(client, thread, UserMessage(text="Dana Smith works at Acme Corp." + PAD), task_queue=tq)
            assert (await ingestion_of(client, thread, first.turn)).outcome == "ingested"

            await asyncio.to_thread(own_falkordb.stop)
            moved = await asyncio.wait_for(
                send_message(client, thread, UserMessage(text="Dana Smith moved to Globex." + PAD), task_queue=tq), 30
            )
            graph_was_down_at_the_reply = not own_falkordb.running
            # Its ingestion waits for the graph, retrying.
            await attempts.until_failed("graph_ingest", times=1)
            assert await count(runtime, graph_episodes, thread.tenant_id, graph_episodes.c.status == "pending") == 1

            await asyncio.to_thread(own_falkordb.start)
            ingested = await asyncio.wait_for(ingestion_of(client, thread, moved.turn), 60)
            current = [f.fact for f in await runtime.knowledge.graph.facts(group, include_invalid=False)]
            history = [f.fact for f in await runtime.knowledge.graph.facts(group)]
    finally:
        await runtime.close()

    assert graph_was_down_at_the_reply and moved.reply.startswith("[offline model")
    assert not [item for item in moved.manifest if item.layer == Layer.GRAPH]  # searched, found nothing: down
    assert "GraphUnavailable" in attempts.failed("graph_ingest")[0].error
    assert ingested.outcome == "ingested" and ingested.invalidated == 1
    assert await count(runtime, graph_episodes, thread.tenant_id, graph_episodes.c.status == "ingested") == 2
    assert await count(runtime, graph_episodes, thread.tenant_id) == 2
    # Nothing from before the restart was lost: the old fact is kept, superseded.
    assert current == ["Dana Smith works at Globex."]
    assert history == ["Dana Smith works at Acme Corp.", "Dana Smith works at Globex."]


async def test_redis_stopped_mid_turn_holds_the_turn_until_it_is_back(
    dev_env, own_falkordb, database_url, graph_url, tmp_path, thread
):
    """The session cache is read on every turn: while Redis is down the lookup is retried
    with backoff and the reply waits; once Redis is back the turn completes, once."""
    settings = Settings(
        database_url=database_url, graph_url=graph_url, redis_url=own_falkordb.redis_url, tool_scratch_root=str(tmp_path / "scratch")
    )
    attempts = Attempts()
    hold = Hold("turn_read")  # the session-cache lookup is one of the turn's reads
    runtime = MemoryRuntime.create(settings)
    client = dev_env.client
    text = "Please check the disk usage of the build host."
    try:
        async with running_worker(client, runtime, interceptors=[attempts, hold]) as tq:
            reply = asyncio.create_task(send_message(client, thread, UserMessage(text=text), task_queue=tq))
            await asyncio.wait_for(hold.reached.wait(), 30)
            await asyncio.to_thread(own_falkordb.stop)
            hold.release.set()
            await attempts.until_failed("turn_read", times=2)
            assert not reply.done()
            await asyncio.to_thread(own_falkordb.start)
            result = await asyncio.wait_for(reply, 60)
        await assert_one_turn_stored(runtime, thread.tenant_id, text, result.reply)
    finally:
        await runtime.close()

    assert "ConnectionError" in attempts.failed("turn_read")[0].error
    assert len(attempts.succeeded("turn_read")) == 1
    assert result.turn == 1 and result.reply.startswith("[offline model")
