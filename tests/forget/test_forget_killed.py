"""A worker killed in the middle of a forget: the next worker finishes it, and the report
counts what the forget found at its start, not what was left after the kill."""

from __future__ import annotations

import uuid

import pytest

from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.forget import ForgetRequest, forget_workflow_id
from contract.ingestion import exchange_ingestion_id
from memory.core.refs import ThreadRef
from memory.forget.models import ForgetScope
from tests.conftest import finished
from tests.faults.killpoint import KILLED, Workers, worker_settings
from tests.forget.scan import postgres_hits
from worker import build_worker
from workflows.forget import ForgetWorkflow

MARKERS = ["KILLEDFORGET9931", "Quillon"]


@pytest.fixture
async def workers(tmp_path):
    (tmp_path / "workers").mkdir()
    pool = Workers(tmp_path / "workers")
    yield pool
    await pool.close()


async def test_a_forget_killed_after_its_graph_step_finishes_with_the_same_counts(
    dev_env, workers, runtime, database_url, graph_url, redis_url, tmp_path
):
    client = dev_env.client
    thread = ThreadRef(tenant_id=f"fk-{uuid.uuid4().hex[:8]}", agent_id="support", thread_id="c-1", user_id="dora")
    seeding = f"seed-{uuid.uuid4().hex[:8]}"
    request = ForgetRequest(scope=ForgetScope(tenant_id=thread.tenant_id, user_id="dora"), operator="dpo", request_id="k1")
    async with build_worker(client, runtime, task_queue=seeding):
        text = "Hello, my name is Quillon Marsh and I work at Acme Corp. My reference is KILLEDFORGET9931, keep it."
        turn = await send_message(client, thread, UserMessage(text=text), task_queue=seeding)
        await finished(client, exchange_ingestion_id(thread, turn.turn))
        dry = request.model_copy(update={"dry_run": True, "request_id": "k1-dry"})
        expected = await client.execute_workflow(
            ForgetWorkflow.run, dry, id=forget_workflow_id(dry), task_queue=seeding
        )
    assert expected.counts["postgres.messages"] == 2 and expected.counts["graph.nodes"] > 0

    settings = worker_settings(
        client.service_client.config.target_host, database_url, graph_url, redis_url, tmp_path / "scratch"
    )
    first = await workers.start({**settings, "KILL_AT": "after:forget_graph"})
    handle = await client.start_workflow(
        ForgetWorkflow.run, request, id=forget_workflow_id(request), task_queue=settings["TASK_QUEUE"]
    )
    second = None
    try:
        assert await first.killed(timeout=90) == f"{KILLED} after:forget_graph#1"
        second = await workers.start(settings)
        report = await handle.result(rpc_timeout=None)
    finally:
        for process in (first, second):
            if process:
                await process.stop()

    assert report.counts == expected.counts
    assert await postgres_hits(runtime.engine, MARKERS) == set()
