"""A thread belongs to at most one end user, fixed by its first message: another user, or no
user, on it is refused with a clear error and stores nothing; each user's recall and
episodes stay their own while agent-wide knowledge reaches everyone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError

from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.conversation.thread_users import ThreadUserMismatch
from memory.core.schema import messages
from tests.conftest import running_worker


async def stored_messages(runtime, thread) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(messages).where(
                messages.c.tenant_id == thread.tenant_id, messages.c.thread_id == thread.thread_id
            )
        )


async def test_a_second_user_on_a_thread_is_refused_and_nothing_is_stored(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    alice = thread.model_copy(update={"user_id": "alice"})
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, alice, UserMessage(text="My locker code is 7781."), task_queue=tq)
        assert first.turn == 1
        for intruder in ("bob", None):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await send_message(
                    client, thread.model_copy(update={"user_id": intruder}), UserMessage(text="What is the code?"),
                    task_queue=tq,
                )
            assert "belongs to user alice" in str(refused.value.cause)
        assert await stored_messages(runtime, thread) == 2  # alice's message and its reply only
        again = await send_message(client, alice, UserMessage(text="Thanks."), task_queue=tq)
        assert again.turn == 2


async def test_a_thread_keeps_its_user_across_runs(runtime, thread):
    """Checked in the store when a new run of the thread starts (the workflow closed meanwhile)."""
    users = runtime.conversation.users
    await users.claim(thread.model_copy(update={"user_id": "carol"}))
    await users.claim(thread.model_copy(update={"user_id": "carol"}))  # the same user again: fine
    with pytest.raises(ThreadUserMismatch, match="belongs to user carol"):
        await users.claim(thread.model_copy(update={"user_id": "dave"}))
    with pytest.raises(ThreadUserMismatch, match="belongs to user carol"):
        await users.claim(thread)
    agent_wide = thread.model_copy(update={"thread_id": "shared"})
    await runtime.conversation.append(agent_wide, 1, "user", "hello")
    with pytest.raises(ThreadUserMismatch, match="belongs to no user"):
        await users.claim(agent_wide.model_copy(update={"user_id": "carol"}))
    assert [t.thread_id for t in await users.threads_of(thread.tenant_id, "carol")] == [thread.thread_id]


def test_user_ids_are_validated_like_every_other_id(thread):
    with pytest.raises(ValueError, match="user id"):
        type(thread).model_validate({**thread.model_dump(), "user_id": "Bob Smith"})
    with pytest.raises(ValueError, match="user id"):
        UserMessage(text="hi", user_id="../etc")
