"""Forgetting one end user on the real stack: afterwards none of the user's words are in any
Postgres table, Redis key, graph or Temporal history, while another user of the same agent
and the same user id in another tenant keep their memory and keep talking."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.forget import ForgetRequest, forget_workflow_id
from contract.ingestion import exchange_ingestion_id
from memory.core.refs import ThreadRef
from memory.forget.models import ForgetScope
from tests.conftest import finished
from tests.forget.scan import postgres_hits, redis_hits, temporal_hits
from worker import build_worker
from workflows.forget import ForgetWorkflow

ALICE = ["ALICE7731MARK", "Zorblat"]
BOB = ["BOB5520MARK", "Brindle"]
OTHER_TENANT = ["TWOALICE4410MARK"]


def said(name: str, company: str, account: str) -> str:
    return f"Hello, my name is {name} and I work at {company}. My account number is {account}, please keep it on file."


async def test_forgetting_a_user_erases_them_everywhere_and_leaves_everyone_else(dev_env, runtime):
    client = dev_env.client
    since = datetime.now(UTC) - timedelta(seconds=5)
    tenant, other = f"fg-{uuid.uuid4().hex[:8]}", f"fg-{uuid.uuid4().hex[:8]}"
    alice = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="a-1", user_id="alice")
    bob = ThreadRef(tenant_id=tenant, agent_id="support", thread_id="b-1", user_id="bob")
    elsewhere = ThreadRef(tenant_id=other, agent_id="support", thread_id="a-1", user_id="alice")
    request = ForgetRequest(
        scope=ForgetScope(tenant_id=tenant, user_id="alice"), operator="dpo", reason="erasure request", request_id="r1"
    )
    task_queue = f"forget-{uuid.uuid4().hex[:8]}"
    # A worker of its own, not tests.conftest.running_worker: that one waits on exit for the
    # child workflows it saw, and the forgotten user's are deleted.
    async with build_worker(client, runtime, task_queue=task_queue):
        for thread, text in (
            (alice, said("Zorblat Quux", "Acme Corp", "ALICE7731MARK")),
            (bob, said("Brindle Vosk", "Globex Corp", "BOB5520MARK")),
            (elsewhere, said("Mirel Tand", "Initech Labs", "TWOALICE4410MARK")),
            (alice, "What account number did I give you? run: echo ALICE7731MARK"),
        ):
            turn = await send_message(client, thread, UserMessage(text=text), task_queue=task_queue)
            await finished(client, exchange_ingestion_id(thread, turn.turn))
        assert await postgres_hits(runtime.engine, ALICE), "the user's words were stored before the forget"

        preview = await client.execute_workflow(
            ForgetWorkflow.run,
            request.model_copy(update={"dry_run": True, "request_id": "dry"}),
            id=forget_workflow_id(request.model_copy(update={"request_id": "dry"})),
            task_queue=task_queue,
        )
        assert await postgres_hits(runtime.engine, ALICE), "a dry run erases nothing"
        report = await client.execute_workflow(
            ForgetWorkflow.run, request, id=forget_workflow_id(request), task_queue=task_queue
        )
        assert report.counts == preview.counts
        assert report.counts["postgres.messages"] == 4
        assert report.counts["temporal.executions"] >= 3  # the conversation and its ingestions
        assert report.counts["graph.nodes"] > 0

        assert await postgres_hits(runtime.engine, ALICE) == set()
        assert await redis_hits(runtime.settings.redis_url, ALICE) == set()
        assert await temporal_hits(client, ALICE, since) == set()

        # Everyone else keeps their memory, and talks on.
        kept = await postgres_hits(runtime.engine, BOB + OTHER_TENANT)
        assert {marker for _, marker in kept} == set(BOB + OTHER_TENANT)
        assert "Brindle" in {m for _, m in await redis_hits(runtime.settings.redis_url, BOB)}  # bob's graph
        again = await send_message(
            client, bob, UserMessage(text="What is my account number again?"), task_queue=task_queue
        )
        assert again.turn == 2
        assert "ALICE7731MARK" not in again.reply
        # The forgotten user may come back: a new thread starts from nothing.
        fresh = await send_message(client, alice, UserMessage(text="Hi, I am back."), task_queue=task_queue)
        assert fresh.turn == 1 and "ALICE7731MARK" not in fresh.reply

    async with runtime.engine.connect() as conn:
        from sqlalchemy import text

        audit = (await conn.execute(text("SELECT * FROM forget_runs WHERE tenant_id = :t"), {"t": tenant})).mappings().all()
    assert [(a["user_id"], a["operator"], a["reason"], a["counts"]) for a in audit] == [
        ("alice", "dpo", "erasure request", report.counts)
    ]
