"""The worker process is killed (SIGKILL) in the middle of a turn and started again.

Each case kills the worker at one point of the turn: right after the model answered,
before or after one of the turn's writes, or in the background work after the reply.
A second worker, without the kill point, takes over. The caller still gets the reply the
model produced, exactly once, and every store holds each row once. The caller's call
just waits through the restart (the client keeps polling for the update's outcome), so
it need not send again.

Workers run as separate processes through tests/faults/killpoint.py, which also shortens
how long the server waits before it gives up on a dead worker's activity (see there).
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType, TimeoutType

from clients.conversation import send_message
from contract.conversation import UserMessage, conversation_workflow_id
from contract.ingestion import exchange_ingestion_id
from memory.core.schema import (
    episodes,
    graph_episodes,
    ingestion_decisions,
    messages,
    recall_embeddings,
    recall_items,
    turns,
    usage_ledger,
)
from memory.graph.service import group_of
from tests.conftest import finished
from tests.faults.killpoint import KILLED, KillAt, Workers, worker_settings
from workflows.conversation import TURN_LOCAL_ACTIVITIES
from workflows.ingestion import KnowledgeIngestionWorkflow

# Names two entities, and is long enough to pass the length gate into the graph.
MESSAGE = "Dana Smith works at Acme Corp. Please keep this on file for the account team before the renewal call."


@pytest.fixture(scope="module")
async def workers(tmp_path_factory):
    pool = Workers(tmp_path_factory.mktemp("workers"))
    yield pool
    await pool.close()


async def count(runtime, table, tenant_id: str, *where) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where))


async def run_histories(client, workflow_id: str) -> list:
    """The events of every run of the workflow, oldest run first (a conversation continues as new)."""
    runs: list = []
    handle = client.get_workflow_handle(workflow_id)
    while True:
        events = (await handle.fetch_history()).events
        runs.insert(0, events)
        previous = events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            return runs
        handle = client.get_workflow_handle(workflow_id, run_id=previous)


async def activity_starts(client, workflow_id: str, activity_type: str) -> list:
    """The started events of every attempt of an activity, as the workflow's history shows them."""
    starts: list = []
    for events in await run_histories(client, workflow_id):
        scheduled = {
            e.event_id
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == activity_type
        }
        starts += [
            e.activity_task_started_event_attributes
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
        ]
    return starts


async def local_activity_results(client, workflow_id: str, activity_type: str) -> int:
    """How many results of a local activity the workflow's history records."""
    return sum(
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"] == activity_type
        for events in await run_histories(client, workflow_id)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    )


async def last_attempt(client, workflow_id: str, activity_type: str) -> int:
    """The attempt that completed the activity."""
    return max((s.attempt for s in await activity_starts(client, workflow_id, activity_type)), default=0)


@pytest.mark.parametrize(
    "kill_at, before_the_reply",
    [
        ("after:conversation_append_message", True),  # the user's message, a local activity
        ("after:turn_read", True),
        ("after:model_generate", True),
        ("before:turn_commit", True),
        # Inside the commit, right after each of its writes: the reply, the recall exchange, the record.
        ("after:turn_commit/conversation_append_message", True),
        ("after:turn_commit/recall_write", True),
        ("after:turn_commit/turn_record", True),
        ("after:turn_commit", True),
        ("after:episode_record", False),  # background work: the reply has gone already
    ],
)
async def test_a_turn_survives_its_worker_being_killed(
    dev_env, workers, runtime, thread, database_url, graph_url, redis_url, tmp_path, kill_at, before_the_reply
):
    settings = worker_settings(dev_env.client.service_client.config.target_host, database_url, graph_url, redis_url, tmp_path / "scratch")
    client = dev_env.client
    first = await workers.start({**settings, "KILL_AT": kill_at})
    second = None
    reply = asyncio.create_task(send_message(client, thread, UserMessage(text=MESSAGE), task_queue=settings["TASK_QUEUE"]))
    try:
        if before_the_reply:
            killed = await first.killed(timeout=60)
            assert not reply.done()  # the caller is still waiting
        else:
            await asyncio.wait_for(asyncio.shield(reply), 60)  # the reply went before the worker died
            killed = await first.killed(timeout=60)
        second = await workers.start(settings)
        async with asyncio.timeout(90):
            result = await reply
            ingestion_id = exchange_ingestion_id(thread, result.turn)
            await finished(client, ingestion_id)
            ingestion = await client.get_workflow_handle_for(KnowledgeIngestionWorkflow.run, ingestion_id).result()
    finally:
        reply.cancel()  # only if the test failed before the reply came
        for process in (first, second):
            if process:
                await process.stop()

    point = KillAt.parse(kill_at)
    assert killed == f"{KILLED} {point}"
    # The killed attempt was given up on and the second worker ran the activity again.
    killed_in = conversation_workflow_id(thread) if before_the_reply else ingestion_id
    if point.activity in TURN_LOCAL_ACTIVITIES:
        # A local activity: its result is recorded with the workflow task that ran it, which
        # the dead worker never completed; the worker that took over recorded each write once.
        assert await local_activity_results(client, killed_in, point.activity) == point.nth
    else:
        assert await last_attempt(client, killed_in, point.activity) >= 2

    tenant = thread.tenant_id
    async with runtime.engine.connect() as conn:
        stored = (
            await conn.execute(select(messages.c.turn, messages.c.role, messages.c.content).where(messages.c.tenant_id == tenant))
        ).all()
    assert sorted(stored) == [(1, "assistant", result.reply), (1, "user", MESSAGE)]
    assert result.turn == 1 and result.reply.startswith("[offline model")
    assert await count(runtime, recall_items, tenant) == 1
    assert await count(runtime, recall_embeddings, tenant) == 1
    assert await count(runtime, turns, tenant, turns.c.status == "completed") == 1
    assert await count(runtime, turns, tenant) == 1
    assert await count(runtime, usage_ledger, tenant, usage_ledger.c.action == "agent_turn") == 1
    assert await count(runtime, usage_ledger, tenant, usage_ledger.c.action == "episode_summary") == 1
    # The turn's query embedding is billed by its commit: once, however often that ran.
    assert await count(runtime, usage_ledger, tenant, usage_ledger.c.action == "recall_embed_query") == 1
    # The background work after the reply, once.
    assert ingestion.outcome == "ingested"
    assert await count(runtime, episodes, tenant) == 1
    assert await count(runtime, ingestion_decisions, tenant) == 1
    assert await count(runtime, graph_episodes, tenant) == 1
    facts = await runtime.knowledge.graph.facts(group_of(tenant))
    assert [f.fact for f in facts] == ["Dana Smith works at Acme Corp."]


async def model_call_attempts(client, workflow_id: str) -> list[tuple[int, int]]:
    """(attempt, timeout type that ended the attempt before it) of each completed model call."""
    return [
        (s.attempt, s.last_failure.timeout_failure_info.timeout_type)
        for s in await activity_starts(client, workflow_id, "model_generate")
    ]


async def test_a_worker_that_dies_mid_model_call_is_given_up_on_when_its_heartbeats_stop(
    dev_env, workers, runtime, thread, database_url, graph_url, redis_url, tmp_path
):
    """With the product's own timeouts (no cap): the model call's attempt may run for two
    minutes, but the second worker takes the turn over once the dead one's heartbeats stop."""
    settings = {**worker_settings(dev_env.client.service_client.config.target_host, database_url, graph_url, redis_url, tmp_path / "scratch"), "KEEP_ATTEMPT_TIMEOUTS": "1"}
    client = dev_env.client
    first = await workers.start({**settings, "KILL_AT": "during:model_generate"})
    second = None
    reply = asyncio.create_task(send_message(client, thread, UserMessage(text="hello"), task_queue=settings["TASK_QUEUE"]))
    try:
        killed = await first.killed(timeout=60)
        died = time.monotonic()
        second = await workers.start(settings)
        result = await asyncio.wait_for(asyncio.shield(reply), 110)
        waited = time.monotonic() - died
        await finished(client, exchange_ingestion_id(thread, result.turn))
    finally:
        reply.cancel()  # only if the test failed before the reply came
        for process in (first, second):
            if process:
                await process.stop()

    assert killed == f"{KILLED} during:model_generate#1"
    assert result.turn == 1 and result.reply.startswith("[offline model")
    assert await model_call_attempts(client, conversation_workflow_id(thread)) == [
        (2, TimeoutType.TIMEOUT_TYPE_HEARTBEAT)
    ]
    assert waited < 80, f"the reply took {waited:.0f} s after the worker died"
    assert await count(runtime, turns, thread.tenant_id, turns.c.status == "completed") == 1
    assert await count(runtime, usage_ledger, thread.tenant_id, usage_ledger.c.action == "agent_turn") == 1
