"""The agent turn end to end on the time-skipping server with the real Postgres."""

from __future__ import annotations

from sqlalchemy import func, select

from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.core.schema import messages, recall_items
from memory.prompt.manifest import Layer
from tests.conftest import running_worker


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


async def test_new_thread_recalls_a_past_exchange(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    other = thread.model_copy(update={"thread_id": "thread-2"})
    async with running_worker(client, runtime) as tq:
        await send_message(client, thread, UserMessage(text="Our warehouse in Rotterdam ships on Tuesdays."), task_queue=tq)
        later = await send_message(client, other, UserMessage(text="When does the Rotterdam warehouse ship?"), task_queue=tq)

    recalled = [item for item in later.manifest if item.layer == Layer.RECALL]
    assert len(recalled) == 1 and recalled[0].label == "exchange in thread thread-1"
    assert "Rotterdam ships on Tuesdays" in later.reply
    # The row was stamped as retrieved, which retention relies on.
    async with runtime.engine.connect() as conn:
        stamped = await conn.scalar(select(recall_items.c.last_retrieved_at).where(recall_items.c.id == recalled[0].source_id))
    assert stamped is not None


async def test_remember_writes_the_notebook_through_the_tool(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        noted = await send_message(client, thread, UserMessage(text="remember: the customer prefers email"), task_queue=tq)
        after = await send_message(client, thread, UserMessage(text="How should I contact them?"), task_queue=tq)

    assert noted.tools_used == ["notebook_edit"]
    assert "saved to /notebook.md as version 1" in noted.reply
    notebook = await runtime.notebook.read(thread.agent)
    assert notebook.content.endswith("- the customer prefers email\n") and notebook.author == "agent"
    assert [i.layer for i in after.manifest if i.layer == Layer.NOTEBOOK] == [Layer.NOTEBOOK]
    assert "notebook v1" in after.reply


async def test_manifest_is_stored_with_the_turn(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        await send_message(client, thread, UserMessage(text="hello"), task_queue=tq)
        second = await send_message(client, thread, UserMessage(text="again"), task_queue=tq)

    record = await runtime.turns.get(thread, 2)
    assert record.status == "completed"
    assert record.manifest == second.manifest
    assert record.assistant_message_id == second.assistant_message_id


async def test_consecutive_turns_with_the_same_retrieval_send_the_same_prefix(time_skipping_env, settings, thread):
    from memory.runtime import MemoryRuntime
    from tests.support import RecordingModel

    model = RecordingModel()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    other = thread.model_copy(update={"thread_id": "thread-2"})
    try:
        async with running_worker(client, runtime) as tq:
            await send_message(client, thread, UserMessage(text="The Rotterdam warehouse ships on Tuesdays."), task_queue=tq)
            a = await send_message(client, other, UserMessage(text="Rotterdam warehouse shipping day?"), task_queue=tq)
            b = await send_message(client, other, UserMessage(text="Rotterdam warehouse shipping day, again?"), task_queue=tq)
    finally:
        await runtime.close()

    recalled = lambda r: [i.source_id for i in r.manifest if i.layer == Layer.RECALL]  # noqa: E731
    assert recalled(a) == recalled(b) != []
    prefix = lambda req: "".join(block.text for block in req.system if block.cacheable)  # noqa: E731
    # The agent's own calls only: background work (episode summaries) runs in between.
    turns = [request for request in model.requests if request.purpose == "agent_turn"]
    assert prefix(turns[-2]) == prefix(turns[-1])
    assert turns[-1].messages[-1].content == "Rotterdam warehouse shipping day, again?"


async def test_idle_thread_closes_and_its_next_message_continues_the_count(own_time_skipping_env, runtime, thread):
    # Skips hours: on a server of its own, no other test's work in flight can hold its clock.
    time_skipping_env = own_time_skipping_env
    from datetime import timedelta

    from temporalio.client import WorkflowExecutionStatus

    from contract.conversation import ConversationLimits

    client = time_skipping_env.client
    limits = ConversationLimits(idle_timeout_hours=1)
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, thread, UserMessage(text="hello"), task_queue=tq, limits=limits)
        run_id = (await client.get_workflow_handle(first.workflow_id).describe()).run_id
        handle = client.get_workflow_handle(first.workflow_id, run_id=run_id)
        for _ in range(2):  # messages 40 minutes apart keep the thread open past the hour
            await time_skipping_env.sleep(timedelta(minutes=40))
            await send_message(client, thread, UserMessage(text="still here"), task_queue=tq, limits=limits)
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        await time_skipping_env.sleep(timedelta(hours=2))
        assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        second = await send_message(client, thread, UserMessage(text="back again"), task_queue=tq, limits=limits)
        # Let the new run close too while a worker is here: an idle timer left behind would
        # fire, with no worker, in a later test that skips time, and stop the shared clock.
        await time_skipping_env.sleep(timedelta(hours=2))
    assert second.turn == 4
    assert 'Earlier in this thread you said: "still here"' in second.reply


async def test_a_layer_kill_switch_takes_effect_on_the_next_turn(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    other = thread.model_copy(update={"thread_id": "thread-2"})
    async with running_worker(client, runtime) as tq:
        await send_message(client, thread, UserMessage(text="Our warehouse in Rotterdam ships on Tuesdays."), task_queue=tq)
        await runtime.switches.set("layer.recall.enabled", False, tenant_id=None, operator="test", reason="cost")
        try:
            killed = await send_message(client, other, UserMessage(text="When does Rotterdam ship?"), task_queue=tq)
        finally:
            await runtime.switches.set("layer.recall.enabled", True, tenant_id=None, operator="test")
        revived = await send_message(client, other, UserMessage(text="When does Rotterdam ship, again?"), task_queue=tq)

    assert not [item for item in killed.manifest if item.layer == Layer.RECALL]
    assert [item.label for item in revived.manifest if item.layer == Layer.RECALL] == ["exchange in thread thread-1"]
    # The exchange made while the layer was off was not stored for recall either.
    assert await count(runtime, recall_items, thread.tenant_id) == 2
