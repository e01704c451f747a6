"""Agents that users define: each turn answers with its own agent's instructions, model and
tools; a new version applies from the next turn; a bad definition is refused whole."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from temporalio.client import WorkflowFailureError

from clients.agents import save_definition
from clients.conversation import send_message
from contract.agents import SaveAgentDefinition
from contract.conversation import ConversationLimits, UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.agents.models import AgentSpec
from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import agent_definitions, tool_calls
from memory.llm.base import ModelRequest, ModelResponse, ToolCall
from memory.prompt.assembly import AGENT_HEADER
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker
from tests.support import RecordingModel

SUPPORT = "You are Acme's support agent. Answer in one short paragraph and never run commands."
CODER = "You are Acme's build engineer. Run commands to check the workspace before answering."


class RunsCommandOnce(RecordingModel):
    """Asks for `echo checked` on a turn's first call when the message says so, then answers."""

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if request.purpose == "agent_turn" and request.tools and not request.tool_calls:
            if request.messages[-1].content.startswith("check:"):
                call = ToolCall(id="c1", name="run_command", arguments={"command": "echo checked"})
                return ModelResponse(text="", tool_calls=[call], provider=self.provider, model=self.model)
        if request.purpose == "agent_turn" and request.tool_results:
            result = request.tool_results[-1]
            return ModelResponse(text=f"tool said: {result.content}", provider=self.provider, model=self.model)
        return await super(RecordingModel, self).generate(request)


def definition(agent: AgentRef, instructions: str, **spec) -> SaveAgentDefinition:
    return SaveAgentDefinition(agent=agent, spec=AgentSpec(instructions=instructions, **spec), author="alice")


def agent_turns(model: RecordingModel) -> list[ModelRequest]:
    return [r for r in model.requests if r.purpose == "agent_turn"]


def instructions_of(request: ModelRequest) -> str | None:
    return next((b.text for b in request.system if b.text.startswith(AGENT_HEADER)), None)


async def test_two_agents_of_one_tenant_answer_with_their_own_instructions_and_tools(time_skipping_env, settings, thread):
    model = RunsCommandOnce()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    support = thread
    coder = ThreadRef(tenant_id=thread.tenant_id, agent_id="coder", thread_id="thread-1")
    try:
        async with running_worker(client, runtime) as tq:
            tools = ["notebook_edit", "recall_search", "load_skill", "scratch_note"]
            saved = await save_definition(client, definition(support.agent, SUPPORT, builtin_tools=tools), task_queue=tq)
            assert (saved.version, saved.tools) == (1, tools)
            await save_definition(client, definition(coder.agent, CODER), task_queue=tq)

            refused = await send_message(client, support, UserMessage(text="check: is the build green?"), task_queue=tq)
            support_request = agent_turns(model)[-1]
            ran = await send_message(client, coder, UserMessage(text="check: is the build green?"), task_queue=tq)
            coder_request = agent_turns(model)[-2]
            for result, t in ((refused, support), (ran, coder)):
                await finished(client, exchange_ingestion_id(t, result.turn))
        async with runtime.engine.connect() as conn:
            rows = (await conn.execute(
                select(tool_calls.c.agent_id, tool_calls.c.tool, tool_calls.c.status, tool_calls.c.output)
                .where(tool_calls.c.tenant_id == thread.tenant_id).order_by(tool_calls.c.id)
            )).all()
        support_record = await runtime.turns.get(support, 1)
    finally:
        await runtime.close()

    assert SUPPORT in instructions_of(support_request) and CODER not in "".join(b.text for b in support_request.system)
    assert CODER in instructions_of(coder_request)
    # The support agent is never offered run_command, and its call of it is refused and logged.
    assert "run_command" not in [t.name for t in support_request.tools]
    assert "run_command" in [t.name for t in coder_request.tools]
    assert refused.reply.startswith("tool said: rejected: agent support v1 has no tool 'run_command'")
    assert ran.reply == "tool said: checked\n"
    assert [(agent, tool, status) for agent, tool, status, _ in rows] == [
        ("support", "run_command", "rejected"),
        ("coder", "run_command", "ok"),
    ]
    assert (refused.agent_version, ran.agent_version, support_record.agent_version) == (1, 1, 1)


async def test_an_update_applies_from_the_next_turn_and_a_version_keeps_its_prefix(time_skipping_env, settings, thread):
    model = RecordingModel()
    runtime = MemoryRuntime.create(settings, llm=model)
    client = time_skipping_env.client
    try:
        async with running_worker(client, runtime) as tq:
            await save_definition(client, definition(thread.agent, SUPPORT), task_queue=tq)
            first = await send_message(client, thread, UserMessage(text="Hello there."), task_queue=tq)
            second = await send_message(client, thread, UserMessage(text="And again."), task_queue=tq)
            v1_turns = agent_turns(model)[-2:]
            update = definition(thread.agent, "You are Acme's support agent. Answer in French.").model_copy(
                update={"based_on": 1, "note": "French customers"}
            )
            saved = await save_definition(client, update, task_queue=tq)
            third = await send_message(client, thread, UserMessage(text="Bonjour."), task_queue=tq)
            for result in (first, second, third):
                await finished(client, exchange_ingestion_id(thread, result.turn))
        records = [await runtime.turns.get(thread, turn) for turn in (1, 2, 3)]
        history = await runtime.agents.history(thread.agent)
    finally:
        await runtime.close()

    # The runtime's rules, then the agent's instructions: the same bytes on both turns of v1.
    assert [b.text for b in v1_turns[0].system[:2]] == [b.text for b in v1_turns[1].system[:2]]
    assert v1_turns[0].system[1].cacheable and v1_turns[0].tools == v1_turns[1].tools
    assert "Answer in French" in instructions_of(agent_turns(model)[-1])
    assert saved.version == 2
    assert [r.agent_version for r in records] == [1, 1, 2]
    assert [(v.version, v.author, v.note) for v in history] == [(1, "alice", ""), (2, "alice", "French customers")]


async def test_an_agent_never_defined_keeps_the_runtime_s_default(time_skipping_env, settings, thread):
    model = RecordingModel()
    runtime = MemoryRuntime.create(settings, llm=model)
    try:
        async with running_worker(time_skipping_env.client, runtime) as tq:
            result = await send_message(time_skipping_env.client, thread, UserMessage(text="Hi."), task_queue=tq)
            await finished(time_skipping_env.client, exchange_ingestion_id(thread, result.turn))
    finally:
        await runtime.close()
    request = agent_turns(model)[-1]
    assert instructions_of(request) is None
    assert [t.name for t in request.tools] == ["notebook_edit", "recall_search", "load_skill", "run_command", "scratch_note"]
    assert result.agent_version is None


@pytest.mark.parametrize(
    "spec, reason",
    [
        ({"instructions": "Be helpful.", "model": "mistery/large"}, "unknown provider 'mistery'"),
        ({"instructions": "   "}, "instructions are empty"),
        ({"instructions": "x" * 20_001}, "the limit is 20000"),
        ({"instructions": "Be helpful.", "builtin_tools": ["delete_everything"]}, "unknown built-in tool"),
        ({"instructions": "Be helpful.", "limits": {"max_tool_iterations": "many"}}, "max_tool_iterations"),
    ],
)
def test_a_definition_that_can_never_be_saved_is_refused_at_the_edge(spec, reason):
    with pytest.raises(ValidationError, match=reason):
        SaveAgentDefinition(agent=AgentRef(tenant_id="acme", agent_id="support"), spec=spec, author="alice")


async def test_creating_an_agent_twice_or_updating_a_stale_version_saves_nothing(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        await save_definition(client, definition(thread.agent, SUPPORT).model_copy(update={"create": True}), task_queue=tq)
        with pytest.raises(WorkflowFailureError) as twice:
            await save_definition(client, definition(thread.agent, CODER).model_copy(update={"create": True}), task_queue=tq)
        with pytest.raises(WorkflowFailureError) as stale:
            await save_definition(client, definition(thread.agent, CODER).model_copy(update={"based_on": 7}), task_queue=tq)
    assert "exists already (version 1)" in str(twice.value.cause.cause)
    assert "is at version 1, not 7" in str(stale.value.cause.cause)
    async with runtime.engine.connect() as conn:
        count = (await conn.execute(
            select(func.count()).select_from(agent_definitions).where(agent_definitions.c.tenant_id == thread.tenant_id)
        )).scalar()
    assert count == 1


def test_limits_in_a_definition_are_those_of_a_thread():
    spec = AgentSpec(instructions="Be brief.", limits={"max_tool_iterations": 2})
    assert ConversationLimits.model_validate(spec.limits).max_tool_iterations == 2


async def test_an_agent_on_an_openai_compatible_endpoint_is_retried_after_429_and_refused_on_400(
    time_skipping_env, settings, thread
):
    from tests.chat_completions_server import ChatCompletionsServer, completion

    server = ChatCompletionsServer()
    server.reply(429, {"error": {"message": "slow down"}}, {"retry-after": "1"})
    server.reply(200, completion("Bonjour from llama.", prompt=300, cached=256))
    server.reply(400, {"error": {"message": "model 'llama3.1' does not support tools"}})
    runtime = MemoryRuntime.create(settings)
    client = time_skipping_env.client
    try:
        with server.running() as base_url:
            async with running_worker(client, runtime) as tq:
                spec = {"model": "openai/llama3.1", "base_url": base_url, "temperature": 0.1, "max_output_tokens": 200}
                await save_definition(client, definition(thread.agent, SUPPORT, **spec), task_queue=tq)
                answered = await send_message(client, thread, UserMessage(text="Hello?"), task_queue=tq)
                await finished(client, exchange_ingestion_id(thread, answered.turn))
                with pytest.raises(Exception) as refused:
                    await send_message(client, thread, UserMessage(text="Use a tool."), task_queue=tq)
                await finished(client, exchange_ingestion_id(thread, 2))
    finally:
        await runtime.close()

    assert (answered.reply, answered.provider, answered.model) == ("Bonjour from llama.", "openai", "llama3.1")
    assert (answered.usage.input_tokens, answered.usage.cache_read_input_tokens) == (44, 256)
    assert answered.agent_version == 1
    turn_calls = [r for r in server.requests if r["messages"][-1]["content"] in ("Hello?", "Use a tool.")]
    # One 429, retried once; then the 400, not retried at all.
    assert [r["messages"][-1]["content"] for r in turn_calls] == ["Hello?", "Hello?", "Use a tool."]
    assert SUPPORT in turn_calls[0]["messages"][0]["content"] and turn_calls[0]["temperature"] == 0.1
    assert "does not support tools" in str(refused.value.cause)
