"""A definition's limits apply to the agent's threads from the next turn, under the limits a
thread's caller set itself; a turn that fails records the agent version that was answering."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError

from clients.agents import save_definition
from clients.conversation import send_message
from contract.agents import SaveAgentDefinition
from contract.conversation import ConversationLimits, UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.agents.models import AgentSpec
from memory.core.refs import ThreadRef
from memory.llm.base import ModelRequestRejected
from memory.runtime import MemoryRuntime
from tests.agents.test_agents import RunsCommandOnce, agent_turns
from tests.conftest import finished, running_worker
from tests.support import ScriptedFailures

CODER = "You are Acme's build engineer. Run commands to check the workspace before answering."


def version(agent, limits: dict, based_on: int | None = None) -> SaveAgentDefinition:
    spec = AgentSpec(instructions=CODER, limits=limits)
    return SaveAgentDefinition(agent=agent, spec=spec, author="alice", based_on=based_on)


async def test_a_definition_s_limits_apply_from_the_next_turn_and_a_caller_s_own_limit_wins(
    time_skipping_env, settings, thread
):
    model = RunsCommandOnce()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    pinned = ThreadRef(tenant_id=thread.tenant_id, agent_id=thread.agent_id, thread_id="pinned-by-caller")
    try:
        async with running_worker(client, runtime) as tq:
            await save_definition(client, version(thread.agent, {"max_tool_iterations": 0}), task_queue=tq)
            no_tools = await send_message(client, thread, UserMessage(text="check: is the build green?"), task_queue=tq)
            offered_v1 = agent_turns(model)[-1].tools
            await save_definition(client, version(thread.agent, {"max_tool_iterations": 3}, based_on=1), task_queue=tq)
            # The same running thread: the next turn runs under version 2's limits.
            ran = await send_message(client, thread, UserMessage(text="check: and now?"), task_queue=tq)
            # A thread whose caller chose its own limit keeps it, whatever the agent says.
            kept = await send_message(
                client, pinned, UserMessage(text="check: is the build green?"), task_queue=tq,
                limits=ConversationLimits(max_tool_iterations=0),
            )
            offered_pinned = agent_turns(model)[-1].tools
            for t, result in ((thread, no_tools), (thread, ran), (pinned, kept)):
                await finished(client, exchange_ingestion_id(t, result.turn))
    finally:
        await runtime.close()

    assert offered_v1 == [] and not no_tools.tools_used
    assert ran.tools_used == ["run_command"] and ran.reply == "tool said: checked\n"
    assert (no_tools.agent_version, ran.agent_version, kept.agent_version) == (1, 2, 2)
    assert offered_pinned == [] and not kept.tools_used


async def test_a_failed_turn_records_the_agent_version_that_was_answering(time_skipping_env, settings, thread):
    model = ScriptedFailures([ModelRequestRejected("400 invalid_request_error: tools are not supported")])
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            await save_definition(client, version(thread.agent, {}), task_queue=tq)
            await save_definition(client, version(thread.agent, {"max_tool_iterations": 1}, based_on=1), task_queue=tq)
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await send_message(client, thread, UserMessage(text="Hello?"), task_queue=tq)
            await finished(client, exchange_ingestion_id(thread, 1))
        record = await runtime.turns.get(thread, 1)
    finally:
        await runtime.close()

    assert "tools are not supported" in str(failed.value.cause)
    assert (record.status, record.agent_version) == ("failed", 2)
