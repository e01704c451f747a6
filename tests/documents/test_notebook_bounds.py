"""The notebook is sent whole in every prompt of every thread of its agent, and any user can
ask the agent to remember something: so every write is held to the cap, the agent's own
notes to hourly rates, and old versions are compacted by retention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.documents.notebook import (
    MAX_NOTE_CHARS,
    MAX_NOTEBOOK_CHARS,
    Notebook,
    NotebookFull,
    NotebookLimits,
    NotebookRateLimited,
)
from memory.documents.path_store import DocumentStore
from memory.learning.growth_retention import COMPACTED
from memory.learning.models import GrowthHorizons
from memory.runtime import MemoryRuntime
from tests.conftest import running_worker


def note(n: int) -> str:
    return f"note {n}: " + "x" * (MAX_NOTE_CHARS - 20)


async def test_two_hundred_appends_stop_at_the_cap_and_the_agents_turns_keep_working(time_skipping_env, settings, thread):
    # A window like a real model's, small enough that an unbounded notebook would overflow it.
    runtime = MemoryRuntime.create(settings.model_copy(update={"offline_context_window_tokens": 60_000}))
    refused = 0
    try:
        for n in range(200):
            try:
                await runtime.notebook.append_note(
                    thread.agent, note(n), author="agent", idempotency_key=f"{thread.key}/bulk/{n}"
                )
            except NotebookFull:
                refused += 1
        stored = await runtime.notebook.read(thread.agent)
        client = time_skipping_env.client
        async with running_worker(client, runtime) as tq:
            other_thread = thread.model_copy(update={"thread_id": "thread-2"})
            remembered = await send_message(client, other_thread, UserMessage(text="remember: " + note(200)), task_queue=tq)
            asked = await send_message(client, other_thread, UserMessage(text="what do you know?"), task_queue=tq)
        after = await runtime.notebook.read(thread.agent)
    finally:
        await runtime.close()

    assert len(stored.content) <= MAX_NOTEBOOK_CHARS
    assert refused == 200 - (stored.version)
    # The refusal reaches the model as its tool result, and it tells the user.
    assert remembered.tools_used == ["notebook_edit"]
    assert "Tool failed (notebook_edit)" in remembered.reply and "notebook is full" in remembered.reply
    assert f"notebook v{stored.version}" in asked.reply
    assert after.version == stored.version


async def test_the_agents_notes_are_held_to_a_rate_per_thread_and_per_agent(runtime, thread):
    notebook = Notebook(DocumentStore(runtime.engine), NotebookLimits(writes_per_thread_per_hour=3, writes_per_agent_per_hour=5))
    for n in range(3):
        await notebook.append_note(thread.agent, f"fact {n}", author="agent", idempotency_key=f"{thread.key}/n{n}", thread=thread)
    with pytest.raises(NotebookRateLimited, match="this conversation already saved 3 notes"):
        await notebook.append_note(thread.agent, "fact 3", author="agent", idempotency_key=f"{thread.key}/n3", thread=thread)
    # A retry of a write that went through is answered, not counted again.
    again = await notebook.append_note(thread.agent, "fact 2", author="agent", idempotency_key=f"{thread.key}/n2", thread=thread)
    assert again.version == 3

    second = thread.model_copy(update={"thread_id": "thread-2"})
    for n in range(2):
        await notebook.append_note(second.agent, f"other {n}", author="agent", idempotency_key=f"{second.key}/n{n}", thread=second)
    third = thread.model_copy(update={"thread_id": "thread-3"})
    with pytest.raises(NotebookRateLimited, match="the notebook already took 5 writes"):
        await notebook.append_note(third.agent, "one too many", author="agent", idempotency_key=f"{third.key}/n0", thread=third)
    assert (await notebook.read(thread.agent)).version == 5


async def test_retention_keeps_the_newest_versions_whole_and_compacts_the_rest(runtime, thread):
    for n in range(30):
        await runtime.notebook.append_note(thread.agent, f"fact {n}", author="agent", idempotency_key=f"{thread.key}/v{n}")
    report = await runtime.retention.run(
        f"retention-{thread.tenant_id}",
        episode_cutoff=datetime(2000, 1, 1, tzinfo=UTC),
        recall_cutoff=datetime(2000, 1, 1, tzinfo=UTC),
        growth=GrowthHorizons(document_versions_kept=20),
    )
    history = await runtime.documents.history(thread.agent, "/notebook.md")
    assert [v.version for v in history if v.content == COMPACTED] == list(range(10, 0, -1))
    assert history[0].content.endswith("- fact 29\n") and history[19].content.endswith("- fact 10\n")
    assert {t.tenant_id: t.pruned for t in report.tenants}[thread.tenant_id] == {"document_versions_compacted": 10}
