"""What a user sees when input is bad, a model refuses, or an acknowledgement is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from clients.conversation import send_message
from contract.conversation import (
    ConversationLimits,
    UserMessage,
    conversation_workflow_id,
)
from contract.ingestion import exchange_ingestion_id
from memory.core.schema import (
    conversation_summaries,
    messages,
    recall_embeddings,
    recall_items,
    turns,
    usage_ledger,
)
from memory.llm.base import (
    ContextWindowExceeded,
    ModelRequestRejected,
    ModelUnavailable,
)
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker, settled
from tests.support import LoseFirstAcknowledgement, ScriptedFailures, StoreDown
from workflows.ingestion import KnowledgeIngestionWorkflow


async def rows(runtime, table, tenant_id) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("hello\x00world", "NUL"),
        ("bad \ud800 surrogate", "surrogate"),
    ],
)
async def test_client_refuses_a_bad_message_before_sending(time_skipping_env, thread, text, reason):
    with pytest.raises(ValueError, match=reason):
        await send_message(time_skipping_env.client, thread, UserMessage(text=text), task_queue="unused")


@pytest.mark.parametrize(
    "text, reason",
    [("", "empty"), ("   \n\t ", "empty"), ("x" * 501, "limit is 500"), ("hello\x00world", "NUL")],
)
async def test_workflow_refuses_a_bad_message_and_nothing_is_written(time_skipping_env, runtime, thread, text, reason):
    """A caller that skips the client's checks (a raw update) meets the workflow's validator."""
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await send_message(
                client, thread, UserMessage(text=text), task_queue=tq, limits=ConversationLimits(max_message_chars=500), check=False
            )
        # The refused update started the thread, whose first activity may still be running.
        await settled(client, conversation_workflow_id(thread))
    assert reason in str(raised.value.cause)
    assert await rows(runtime, messages, thread.tenant_id) == 0
    assert await rows(runtime, recall_items, thread.tenant_id) == 0


async def test_retried_writes_after_lost_acknowledgement_leave_one_row(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    # The reply, the recall exchange and the turn record are written by one activity, turn_commit.
    faults = LoseFirstAcknowledgement({"conversation_append_message", "turn_commit", "notebook_edit"})
    async with running_worker(client, runtime, interceptors=[faults]) as tq:
        result = await send_message(client, thread, UserMessage(text="remember: invoices go to ap@example.com"), task_queue=tq)

    assert set(faults.lost) == faults.activity_names  # every write was really retried
    assert await rows(runtime, messages, thread.tenant_id) == 2
    assert await rows(runtime, recall_items, thread.tenant_id) == 1
    assert await rows(runtime, recall_embeddings, thread.tenant_id) == 1
    assert await rows(runtime, turns, thread.tenant_id) == 1
    history = await runtime.documents.history(thread.agent, "/notebook.md")
    assert [v.version for v in history] == [1]
    assert result.turn == 1


async def test_transient_model_errors_are_retried_and_refusals_fail_fast(time_skipping_env, settings, thread):
    flaky = ScriptedFailures([ModelUnavailable("429 rate limited", retry_after_seconds=2), ModelUnavailable("529 overloaded")])
    runtime = MemoryRuntime.create(settings, llm=flaky)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            ok = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq)
            assert ok.reply.startswith("[offline model") and flaky.calls == 3

            flaky.failures = [ModelRequestRejected("400 invalid_request_error: bad tool schema")]
            with pytest.raises(WorkflowUpdateFailedError) as raised:
                await send_message(client, thread, UserMessage(text="again"), task_queue=tq)
        assert "bad tool schema" in str(raised.value.cause)
        assert flaky.calls == 4  # one attempt only: a refusal is not retried
        failed = await runtime.turns.get(thread, 2)
        assert failed.status == "failed"
    finally:
        await runtime.close()


async def test_context_overflow_summarises_then_tries_once_more(time_skipping_env, settings, thread):
    model = ScriptedFailures([])
    runtime = MemoryRuntime.create(settings, llm=model)
    limits = ConversationLimits(summary_keep_tail_messages=4)
    client = time_skipping_env.client
    # Only the conversation's own model calls are counted here: no graph extraction.
    await runtime.switches.set("graph_extraction", False, tenant_id=thread.tenant_id, operator="test")
    try:
        async with running_worker(client, runtime) as tq:
            for n in range(4):
                await send_message(
                    client, thread, UserMessage(text=f"fact {n}: " + "detail " * 40), task_queue=tq, limits=limits
                )
            model.failures = [ContextWindowExceeded("prompt is too long: 9000 tokens > 8000 maximum")]
            result = await send_message(
                client, thread, UserMessage(text="what did I tell you?"), task_queue=tq, limits=limits
            )

        assert model.calls == 4 + 2 + 1  # 4 turns, the refused call and its one retry, one summary
        assert any(item.layer == "conversation_summary" for item in result.manifest)
        assert await rows(runtime, conversation_summaries, thread.tenant_id) == 1
        assert await rows(runtime, messages, thread.tenant_id) == 10  # summarising deleted nothing
        ledger = await runtime.ledger.totals_by_action(thread.tenant_id)
        assert ledger["conversation_summary"] == 1
    finally:
        await runtime.close()


async def test_summary_at_threshold_keeps_the_tail_and_every_message(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    limits = ConversationLimits(summary_trigger_tokens=200)
    async with running_worker(client, runtime) as tq:
        for n in range(6):
            last = await send_message(
                client, thread, UserMessage(text=f"note {n}: " + "words " * 30), task_queue=tq, limits=limits
            )

    assert await rows(runtime, conversation_summaries, thread.tenant_id) >= 1
    assert await rows(runtime, messages, thread.tenant_id) == 12
    context = await runtime.conversation.context(thread)
    assert context.summary is not None
    assert len(context.tail) >= limits.summary_keep_tail_messages
    assert [m.turn for m in context.tail][-2:] == [6, 6]
    assert any(item.layer == "conversation_summary" for item in last.manifest)
    async with runtime.engine.connect() as conn:
        billed = await conn.scalar(
            select(func.count()).where(usage_ledger.c.tenant_id == thread.tenant_id, usage_ledger.c.action == "conversation_summary")
        )
    assert billed >= 1


# Long enough for the ingestion's length gate: the gate that stops it is the failed turn's.
LONG_MESSAGE = "Dana Smith works at Acme Corp. Please keep this on file for the account team before the renewal call."


# The reads are one activity (turn_read), the writes after the reply another (turn_commit).
@pytest.mark.parametrize("down, stored", [("turn_read", 1), ("turn_commit", 1)])
async def test_a_store_that_stays_down_fails_the_turn_on_record(time_skipping_env, runtime, thread, down, stored):
    """A read before the model call or a write after it: either way the turn is recorded as
    failed, its exchange goes to ingestion like any failed turn, and the thread carries on."""
    client = time_skipping_env.client
    faults = StoreDown({down})
    async with running_worker(client, runtime, interceptors=[faults]) as tq:
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await send_message(client, thread, UserMessage(text=LONG_MESSAGE), task_queue=tq)
        faults.activity_names.clear()  # the store is back
        later = await send_message(client, thread, UserMessage(text="still there?"), task_queue=tq)

    cause = raised.value.cause
    assert cause.type == "TurnFailed"
    assert f"turn 1 failed: {down} did not succeed" in str(cause) and "database running" in str(cause)
    failed = await runtime.turns.get(thread, 1)
    assert failed.status == "failed"
    assert (failed.assistant_message_id is not None) == (stored == 2)  # the reply was stored before the failure
    ingestion = await client.get_workflow_handle_for(KnowledgeIngestionWorkflow.run, exchange_ingestion_id(thread, 1)).result()
    assert ingestion.outcome == "turn_failed"
    assert later.turn == 2 and (await runtime.turns.get(thread, 2)).status == "completed"
    assert await rows(runtime, messages, thread.tenant_id) == stored + 2


async def test_a_turn_whose_failure_cannot_be_recorded_still_reports_what_failed_it(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    faults = StoreDown({"turn_commit", "turn_record"})
    async with running_worker(client, runtime, interceptors=[faults]) as tq:
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await send_message(client, thread, UserMessage(text=LONG_MESSAGE), task_queue=tq)

    message = raised.value.cause.message
    assert message.startswith("turn 1 failed: turn_commit did not succeed: connection refused")
    assert "recording the failure did not succeed either" in message
    assert faults.failed == ["turn_commit", "turn_record"]
    assert await rows(runtime, turns, thread.tenant_id) == 0
    ingestion = await client.get_workflow_handle_for(KnowledgeIngestionWorkflow.run, exchange_ingestion_id(thread, 1)).result()
    assert ingestion.outcome == "turn_failed"
