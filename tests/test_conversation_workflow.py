"""The agent turn end to end on the time-skipping server with the real Postgres."""

from __future__ import annotations

from sqlalchemy import func, select

from clients.conversation import send_message
from memory.manifest import Layer
from memory.refs import ThreadRef
from memory.schema import messages, recall_items
from tests.conftest import running_worker
from workflows.models import UserMessage


async def count(runtime, table, tenant_id: str) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))


async def test_second_message_sees_the_first(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, thread, UserMessage(text="My order number is 4471."), task_queue=tq)
        second = await send_message(client, thread, UserMessage(text="What was my order number?"), task_queue=tq)

    assert first.turn == 1 and second.turn == 2
    assert first.reply.startswith("[offline model")
    assert 'Earlier in this thread you said: "My order number is 4471."' in second.reply
    layers = [item.layer for item in second.manifest]
    assert layers.count(Layer.CONVERSATION_MESSAGE) == 2
    assert second.workflow_id == f"conversation/{thread.tenant_id}/support/thread-1"
    assert await count(runtime, messages, thread.tenant_id) == 4
