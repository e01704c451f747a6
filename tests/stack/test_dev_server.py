"""What only the full dev server shows: UI metadata, search attributes, continue-as-new,
and the chat client end to end."""

from __future__ import annotations

import asyncio
import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from clients import chat
from clients.conversation import send_message
from contract.conversation import UserMessage, conversation_workflow_id
from contract.ingestion import exchange_ingestion_id
from contract.search_attributes import AGENT_ID, TENANT_ID, THREAD_ID
from tests.conftest import finished, running_worker


async def test_chat_client_prints_reply_workflow_id_and_manifest(dev_env, runtime, thread, monkeypatch, capsys):
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    async with running_worker(dev_env.client, runtime) as tq:
        args = ["--tenant", thread.tenant_id, "--agent", thread.agent_id, "--thread", thread.thread_id, "--task-queue", tq]
        assert await chat.main([*args, "Hello there"]) == 0
        capsys.readouterr()
        assert await chat.main([*args, "--json", "Second message"]) == 0
    turn = json.loads(capsys.readouterr().out)
    assert turn["reply"].startswith("[offline model")
    assert turn["workflow_id"] == conversation_workflow_id(thread)
    assert [item["layer"] for item in turn["manifest"]] == ["conversation_message", "conversation_message"]


async def test_chat_client_refuses_bad_ids_and_empty_messages(capsys):
    assert await chat.main(["--tenant", "Acme Corp", "--agent", "a", "--thread", "t", "hi"]) == 2
    assert "tenant id 'Acme Corp' is malformed" in capsys.readouterr().err
    assert await chat.main(["--tenant", "acme", "--agent", "a", "--thread", "t", "   "]) == 2
    assert "empty" in capsys.readouterr().err


async def test_turn_is_readable_in_the_ui(dev_env, runtime, thread):
    client = dev_env.client
    async with running_worker(client, runtime) as tq:
        await send_message(client, thread, UserMessage(text="hello"), task_queue=tq)
        latest = await client.get_workflow_handle(conversation_workflow_id(thread)).describe()
        first_run = latest.raw_description.workflow_execution_info.first_run_id
        handle = client.get_workflow_handle(conversation_workflow_id(thread), run_id=first_run)
        details = await handle.query("__temporal_workflow_metadata")

    attributes = latest.typed_search_attributes  # carried over when the run continues as new
    assert attributes.get(TENANT_ID) == thread.tenant_id
    assert attributes.get(AGENT_ID) == thread.agent_id
    assert attributes.get(THREAD_ID) == thread.thread_id
    assert (await (await handle.describe()).static_summary()).startswith(f"Conversation: tenant {thread.tenant_id}")
    assert "**Turn 1** answered by offline/offline-deterministic-v1" in details.current_details

    history = await handle.fetch_history()
    scheduled = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]
    # The turn's short writes run as local activities: the UI shows them as markers.
    local = [
        e for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    names = {e.activity_task_scheduled_event_attributes.activity_type.name for e in scheduled} | {
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)["activity_type"] for e in local
    }
    assert {"conversation_append_message", "turn_read", "model_generate", "turn_commit"} <= names
    converter = client.data_converter.payload_converter
    summaries = [converter.from_payload(e.user_metadata.summary, str) for e in [*scheduled, *local]]
    assert "conversation: append user message, turn 1" in summaries
    assert "memory: read notebook, recall, conversation, graph, skills, episodic, session cache; turn 1" in summaries
    assert "memory: store reply, recall exchange and turn record; turn 1" in summaries


async def test_thread_continues_as_new_and_keeps_counting(dev_env, runtime, thread):
    client = dev_env.client
    async with running_worker(client, runtime) as tq:
        first = await send_message(client, thread, UserMessage(text="turn one"), task_queue=tq)
        first_run = (await client.get_workflow_handle(first.workflow_id).describe()).run_id
        results = [await send_message(client, thread, UserMessage(text=f"turn {n}"), task_queue=tq) for n in range(2, 6)]

    assert [r.turn for r in results] == [2, 3, 4, 5]
    old = await client.get_workflow_handle(first.workflow_id, run_id=first_run).describe()
    assert old.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    # Every turn's knowledge ingestion ran once, across the runs.
    for turn in range(1, 6):
        ingestion = await client.get_workflow_handle(exchange_ingestion_id(thread, turn)).describe()
        assert ingestion.status == WorkflowExecutionStatus.COMPLETED
    assert 'Earlier in this thread you said: "turn 4"' in results[-1].reply


async def test_the_gate_that_decided_is_searchable_and_readable(dev_env, runtime, thread):
    client = dev_env.client
    async with running_worker(client, runtime) as tq:
        await send_message(client, thread, UserMessage(text="thanks!"), task_queue=tq)
        await finished(client, exchange_ingestion_id(thread, 1))
        handle = client.get_workflow_handle(exchange_ingestion_id(thread, 1))
        details = await handle.query("__temporal_workflow_metadata")
    description = await handle.describe()

    query = f'TenantId = "{thread.tenant_id}" AND IngestionOutcome = "below_length_threshold"'
    for _ in range(100):  # visibility catches up asynchronously
        found = [w.id async for w in client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.05)
    assert found == [exchange_ingestion_id(thread, 1)]
    assert (await description.static_summary()) == f"Knowledge ingestion: thread {thread.thread_id}, turn 1"
    assert details.current_details.startswith("**Ingestion: below_length_threshold**")
    assert "message of 7 chars is below the 80-char threshold" in details.current_details
