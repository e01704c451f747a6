"""A client that lost its connection (its process restarted, a proxy timed out) sends the
same message again with the same request id, as clients/conversation.py says to: it must
get the first answer back, not a second turn."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clients.conversation import send_message
from memory.schema import messages
from tests.conftest import running_worker
from workflows.models import ConversationLimits, UserMessage


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


@pytest.mark.xfail(
    strict=True,
    reason="request ids are remembered by one run of the conversation only: a resend that "
    "arrives after the run continued as new starts a second turn",
)
async def test_a_message_resent_after_the_thread_continued_as_new_gets_the_first_answer(own_time_skipping_env, runtime, thread):
    client = own_time_skipping_env.client
    # Every thread continues as new sooner or later; this one after each turn.
    limits = ConversationLimits(max_turns_per_run=1)
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits, request_id="req-1")
        again = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits, request_id="req-1")

    assert (again.turn, again.reply) == (first.turn, first.reply)
    assert await stored_messages(runtime, thread.tenant_id) == 2
