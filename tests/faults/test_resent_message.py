"""A client that lost its connection (its process restarted, a proxy timed out) sends the
same message again with the same request id, as clients/conversation.py says to: it must
get the first answer back, not a second turn."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from clients.conversation import send_message
from contract.conversation import ConversationLimits, UserMessage
from memory.core.schema import messages
from memory.llm.base import ModelRequestRejected
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker
from tests.support import ScriptedFailures


async def stored_messages(runtime, tenant_id: str) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(messages).where(messages.c.tenant_id == tenant_id))


async def test_a_resent_message_gets_the_first_answer(own_time_skipping_env, runtime, thread):
    client = own_time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, request_id="req-1")
        again = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, request_id="req-1")

    assert (again.turn, again.reply) == (first.turn, first.reply)
    assert await stored_messages(runtime, thread.tenant_id) == 2


async def test_a_message_resent_after_the_thread_continued_as_new_gets_the_first_answer(own_time_skipping_env, runtime, thread):
    client = own_time_skipping_env.client
    # Every thread continues as new sooner or later; this one after each turn.
    limits = ConversationLimits(max_turns_per_run=1)
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits, request_id="req-1")
        again = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits, request_id="req-1")

    assert (again.turn, again.reply) == (first.turn, first.reply)
    assert await stored_messages(runtime, thread.tenant_id) == 2


async def test_a_resent_message_whose_turn_failed_gets_the_same_failure_and_runs_nothing(own_time_skipping_env, settings, thread):
    model = ScriptedFailures([ModelRequestRejected("400 invalid_request_error: bad tool schema")])
    runtime = MemoryRuntime.create(settings, llm=model)
    client = own_time_skipping_env.client
    limits = ConversationLimits(max_turns_per_run=1)
    try:
        async with running_worker(client, runtime) as tq:
            with pytest.raises(WorkflowUpdateFailedError) as first:
                await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits, request_id="req-1")
            with pytest.raises(WorkflowUpdateFailedError) as again:
                await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits, request_id="req-1")
            # The turn number the resend did not use goes to the next message.
            following = await send_message(client, thread, UserMessage(text="hello?"), task_queue=tq, limits=limits, request_id="req-2")

        assert "bad tool schema" in str(first.value.cause)
        assert str(again.value.cause) == str(first.value.cause)
        assert model.calls == 2  # the failed turn's call and the next message's, none for the resend
        assert following.turn == 2
        assert await stored_messages(runtime, thread.tenant_id) == 3
    finally:
        await runtime.close()
