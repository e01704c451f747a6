"""The knowledge graph end to end: turns feed an ingestion child workflow through the gates
into graphiti on a real FalkorDB, and later turns see the facts, the notebook above them."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.ingestion import (
    IngestionResult,
    NotebookEdit,
    exchange_ingestion_id,
    notebook_edit_id,
)
from memory.core.refs import ThreadRef
from memory.core.schema import usage_ledger
from memory.graph.service import group_of
from memory.llm.base import ModelRequestRejected
from memory.prompt.manifest import Layer
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker
from tests.support import RecordingModel, ScriptedFailures
from workflows.ingestion import KnowledgeIngestionWorkflow
from workflows.notebook_edit import NotebookEditWorkflow

# Episode summaries are the episodic layer's cost (every exchange past the length gate is
# summarised for episodic memory); the graph then reuses that summary.
GRAPH_ACTIONS = ("graph_extraction", "graph_embed", "graph_rerank")
# Long enough to pass the default length gate (80 characters).
PAD = " Please keep this on file for the account team before the renewal call."


async def ingestion_of(client, thread: ThreadRef, turn_number: int) -> IngestionResult:
    workflow_id = exchange_ingestion_id(thread, turn_number)
    await finished(client, workflow_id)  # started after the reply: it may not exist yet
    return await client.get_workflow_handle_for(KnowledgeIngestionWorkflow.run, workflow_id).result()


async def turn(client, thread: ThreadRef, text: str, tq: str, **message):
    """One turn, then wait for its ingestion child to finish; returns (turn result, ingestion result)."""
    result = await send_message(client, thread, UserMessage(text=text, **message), task_queue=tq)
    ingestion = await ingestion_of(client, thread, result.turn)
    return result, ingestion


async def graph_ledger_rows(runtime: MemoryRuntime, tenant_id: str) -> int:
    async with runtime.engine.connect() as conn:
        return await conn.scalar(
            select(func.count())
            .select_from(usage_ledger)
            .where(usage_ledger.c.tenant_id == tenant_id, usage_ledger.c.action.in_(GRAPH_ACTIONS))
        )


async def test_a_fact_from_one_turn_reaches_the_next_turns_context(time_skipping_env, settings, thread):
    model = RecordingModel()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            _, ingested = await turn(client, thread, "Dana Smith works at Acme Corp." + PAD, tq)
            later, _ = await turn(client, thread.model_copy(update={"thread_id": "t2"}), "Where does Dana Smith work today?", tq)
    finally:
        await runtime.close()

    assert ingested.outcome == "ingested" and ingested.episodes == 1
    graph = [item for item in later.manifest if item.layer == Layer.GRAPH]
    assert [item.label for item in graph] == ["Dana Smith WORKS_AT Acme Corp"]
    assert graph[0].valid_at is not None
    assert graph[0].source_episode.startswith(f"conversation: thread {thread.thread_id} of agent support, turn 1")
    prompt = "\n".join(block.text for block in model.requests[-1].system)
    assert "## Facts from the knowledge graph" in prompt and "Acme Corp" in prompt
    assert await graph_ledger_rows(runtime, thread.tenant_id) > 0


async def test_a_contradiction_invalidates_the_old_fact_and_keeps_it(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        await turn(client, thread, "Dana Smith works at Acme Corp." + PAD, tq)
        _, moved = await turn(client, thread, "Dana Smith moved to Globex." + PAD, tq)
        later, _ = await turn(client, thread, "Where does Dana Smith work today?", tq)

    assert moved.outcome == "ingested" and moved.invalidated == 1
    current = [item.label for item in later.manifest if item.layer == Layer.GRAPH]
    assert current == ["Dana Smith WORKS_AT Globex"]
    history = await runtime.knowledge.graph.facts(group_of(thread.tenant_id), include_invalid=True)
    acme = [f for f in history if f.target_entity == "Acme Corp"]
    assert len(acme) == 1 and acme[0].invalid_at is not None


async def test_an_operator_notebook_correction_wins_over_the_extracted_fact(time_skipping_env, settings, thread):
    model = RecordingModel()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            # The conversation got the company name wrong.
            await turn(client, thread, "Dana Smith works at Acmee Corp." + PAD, tq)
            edit = await client.execute_workflow(
                NotebookEditWorkflow.run,
                NotebookEdit(
                    agent=thread.agent,
                    content="Dana Smith works at Acme Industries.",
                    operator="alice",
                    reason="company name",
                    request_id="fix-1",
                ),
                id=notebook_edit_id(thread.agent, "fix-1"),
                task_queue=tq,
            )
            prompts = []
            for question in ("Where does Dana Smith work?", "Remind me of Dana Smith's employer."):
                result, _ = await turn(client, thread, question, tq)
                prompts.append(("\n".join(b.text for b in model.requests[-1].system), result))
    finally:
        await runtime.close()

    assert edit.version == 1 and edit.ingestion.outcome == "ingested" and edit.ingestion.invalidated == 1
    for prompt, result in prompts:
        notebook_at = prompt.index("## Notebook (authoritative")
        graph_at = prompt.index("## Facts from the knowledge graph")
        assert notebook_at < graph_at
        assert "Dana Smith works at Acme Industries." in prompt
        assert "Acmee Corp" not in prompt[graph_at:]
        labels = [item.label for item in result.manifest if item.layer == Layer.GRAPH]
        assert labels == ["Dana Smith WORKS_AT Acme Industries"]
        notebook = [item for item in result.manifest if item.layer == Layer.NOTEBOOK]
        assert notebook and notebook[0].label.endswith("by operator:alice")


async def test_gated_messages_make_no_model_calls_and_no_ledger_entries(time_skipping_env, settings, thread):
    model = RecordingModel()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    trial = ThreadRef(tenant_id=f"trial-{uuid.uuid4().hex[:8]}", agent_id="support", thread_id="t1")
    await runtime.tenants.set_plan(trial.tenant_id, "trial")
    try:
        async with running_worker(client, runtime) as tq:
            _, short = await turn(client, thread, "thanks!", tq)
            _, delegated = await turn(client, thread, "Dana Smith works at Acme Corp." + PAD, tq, delegated=True)
            _, on_trial = await turn(client, trial, "Dana Smith works at Acme Corp." + PAD, tq)
            summaries_before = sum(1 for r in model.requests if r.purpose == "summary")
            await runtime.switches.set("layer.graph.enabled", False, tenant_id=None, operator="test", reason="kill")
            try:
                _, killed = await turn(client, thread, "Dana Smith works at Acme Corp." + PAD, tq)
            finally:
                await runtime.switches.set("layer.graph.enabled", True, tenant_id=None, operator="test")
    finally:
        await runtime.close()

    assert short.outcome == "below_length_threshold"
    assert delegated.outcome == "delegated_conversation"
    assert on_trial.outcome == "tenant_switch_off" and "trial" in on_trial.detail
    assert killed.outcome == "layer_switch_off"
    assert summaries_before == 0 and not any(r.purpose == "summary" for r in model.requests)
    for tenant in (thread.tenant_id, trial.tenant_id):
        assert await graph_ledger_rows(runtime, tenant) == 0
        assert await runtime.knowledge.graph.entity_names(group_of(tenant)) == []
    counts = await runtime.knowledge.decisions.counts_by_gate(thread.tenant_id)
    assert counts == {"below_length_threshold": 1, "delegated_conversation": 1, "layer_switch_off": 1}


async def test_a_failed_turn_is_not_ingested(time_skipping_env, settings, thread):
    runtime = MemoryRuntime.create(settings, llm=ScriptedFailures([ModelRequestRejected("400 bad request")]))
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            try:
                await send_message(client, thread, UserMessage(text="Dana Smith works at Acme Corp." + PAD), task_queue=tq)
            except Exception:
                pass
            ingestion = await ingestion_of(client, thread, 1)
    finally:
        await runtime.close()
    assert ingestion.outcome == "turn_failed"
    assert await graph_ledger_rows(runtime, thread.tenant_id) == 0
