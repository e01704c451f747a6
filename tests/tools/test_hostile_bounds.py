"""What a hostile model response or client can ask for is bounded: tool arguments nested
or sized to wedge a thread, endless tool rounds, a flood of calls in one response, limits
that make no sense, and identifiers with a trailing newline."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contract.conversation import ConversationLimits
from memory.core.validation import InvalidInput, check_id
from memory.documents.path_store import normalise_path
from memory.embedding.base import EmbeddingModelId
from memory.llm.base import ModelRequest, ModelResponse, ToolCall
from memory.llm.offline import OfflineModel
from tests.tools.test_tool_calls import logged, run_turn


class Scripted(OfflineModel):
    """Answers each agent-turn call with `respond(request)`; counts the calls it was billed for."""

    def __init__(self, respond):
        super().__init__()
        self.respond = respond
        self.turn_calls: list[ModelRequest] = []

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if request.purpose != "agent_turn":
            return await super().generate(request)
        self.turn_calls.append(request)
        calls = self.respond(request)
        text = "" if calls else "Finished the task."
        return ModelResponse(text=text, tool_calls=calls, provider=self.provider, model=self.model)


def nested(depth: int) -> dict:
    value: dict = {"leaf": "x"}
    for _ in range(depth - 1):
        value = {"deeper": value}
    return value


@pytest.mark.parametrize("depth", [250, 700])
async def test_tool_arguments_nested_too_deep_are_refused_and_the_turn_still_answers(
    time_skipping_env, settings, runtime, thread, depth
):
    def respond(request):
        if request.tool_results:
            return []
        return [ToolCall(id="deep", name="run_command", arguments={"command": nested(depth)})]

    model = Scripted(respond)
    result = await run_turn(time_skipping_env.client, settings, thread, "Do the thing.", llm=model)

    assert result.reply == "Finished the task."
    # One billed call for the tool round and one for the answer: nothing was retried.
    assert len(model.turn_calls) == 2
    [(tool, _, status, output)] = await logged(runtime, thread)
    assert (tool, status) == ("run_command", "rejected")
    assert "nest more than 16 levels deep" in output


async def test_the_workers_max_tool_iterations_caps_a_thread_that_asks_for_more(time_skipping_env, settings, runtime, thread):
    def respond(request):
        if not request.tools:
            return []
        return [ToolCall(id=f"c{len(request.tool_results)}", name="run_command", arguments={"command": "true"})]

    model = Scripted(respond)
    capped = settings.model_copy(update={"max_tool_iterations": 2})
    result = await run_turn(
        time_skipping_env.client, capped, thread, "Loop.", llm=model, limits=ConversationLimits(max_tool_iterations=50)
    )

    assert result.reply == "Finished the task."
    assert len(await logged(runtime, thread)) == 2
    assert len(model.turn_calls) == 3  # two rounds with tools, then one that must answer


async def test_tool_calls_in_one_response_are_capped(time_skipping_env, settings, runtime, thread):
    def respond(request):
        if request.tool_results:
            return []
        return [ToolCall(id=f"c{i}", name="run_command", arguments={"command": f"echo {i}"}) for i in range(40)]

    result = await run_turn(time_skipping_env.client, settings, thread, "Flood.", llm=Scripted(respond))

    assert result.reply == "Finished the task."
    rows = await logged(runtime, thread)
    assert [args["command"] for _, args, _, _ in rows] == [f"echo {i}" for i in range(8)]


@pytest.mark.parametrize(
    "limits",
    [
        {"max_tool_iterations": -1},
        {"max_tool_iterations": 10_000},
        {"summary_trigger_tokens": 0},
        {"max_turns_per_run": 0},
        {"max_message_chars": 0},
        {"tool_timeout_seconds": float("inf")},
        {"idle_timeout_hours": -1},
    ],
)
def test_thread_limits_that_make_no_sense_are_refused_at_the_edge(limits):
    with pytest.raises(ValidationError):
        ConversationLimits(**limits)
    with pytest.raises(ValidationError):
        ConversationLimits.from_env({name.upper(): str(value) for name, value in limits.items()})


def test_identifiers_with_a_trailing_newline_are_refused():
    with pytest.raises(InvalidInput):
        check_id("tenant", "acme\n")
    with pytest.raises(InvalidInput):
        normalise_path("/notebook.md\n")
    with pytest.raises(ValueError):
        EmbeddingModelId.parse("offline/hashed-ngrams/256\n")
    # The identifiers themselves still pass.
    assert check_id("tenant", "acme") == "acme"
    assert normalise_path("/notebook.md") == "/notebook.md"
    assert str(EmbeddingModelId.parse("offline/hashed-ngrams/256")) == "offline/hashed-ngrams/256"
