"""AnthropicClient against a stand-in for the Messages HTTP API (the SDK speaks httpx2)."""

from __future__ import annotations

import json
from typing import Any, Callable

import httpx2
import pytest

from memory.llm.anthropic_client import AnthropicClient
from memory.llm.base import (
    ChatMessage,
    ContextWindowExceeded,
    ModelRequest,
    ModelRequestRejected,
    ModelUnavailable,
    TextBlock,
    ToolCall,
    ToolResult,
    ToolSpec,
)

API_KEY = "sk-ant-test-0123456789abcdef"


def ok_body(content: list[dict[str, Any]] | None = None, **usage: Any) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": content if content is not None else [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
    }


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


class Recorder:
    def __init__(self, respond: Callable[[httpx2.Request], httpx2.Response]):
        self.respond = respond
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)


def make_client(recorder: Recorder) -> AnthropicClient:
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(recorder))
    return AnthropicClient(API_KEY, "claude-test", http_client=http)


def simple_request(**overrides: Any) -> ModelRequest:
    fields: dict[str, Any] = {
        "system": [TextBlock(text="You are helpful.")],
        "messages": [ChatMessage(role="user", content="hi")],
    }
    fields.update(overrides)
    return ModelRequest(**fields)


async def test_cache_control_only_on_cacheable_system_blocks() -> None:
    recorder = Recorder(lambda r: httpx2.Response(200, json=ok_body()))
    request = simple_request(
        system=[
            TextBlock(text="persona", cacheable=True),
            TextBlock(text="core memory"),
            TextBlock(text="long-term facts", cacheable=True),
            TextBlock(text="volatile recall"),
        ]
    )
    await make_client(recorder).generate(request)
    system = recorder.body["system"]
    assert [b["text"] for b in system] == ["persona", "core memory", "long-term facts", "volatile recall"]
    assert [("cache_control" in b) for b in system] == [True, False, True, False]
    assert system[0]["cache_control"] == {"type": "ephemeral"}


async def test_at_most_three_system_breakpoints_keeping_the_last() -> None:
    recorder = Recorder(lambda r: httpx2.Response(200, json=ok_body()))
    request = simple_request(system=[TextBlock(text=f"b{i}", cacheable=True) for i in range(5)])
    await make_client(recorder).generate(request)
    assert [("cache_control" in b) for b in recorder.body["system"]] == [False, False, True, True, True]


async def test_messages_alternate_start_with_user_and_end_with_user() -> None:
    recorder = Recorder(lambda r: httpx2.Response(200, json=ok_body()))
    request = simple_request(
        messages=[
            ChatMessage(role="assistant", content="earlier reply"),
            ChatMessage(role="user", content="first"),
            ChatMessage(role="user", content="second"),
            ChatMessage(role="assistant", content="answer"),
            ChatMessage(role="user", content="latest"),
        ]
    )
    await make_client(recorder).generate(request)
    messages = recorder.body["messages"]
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "user", "assistant", "user"]
    assert messages[2]["content"] == "first\n\nsecond"
    assert messages[-1]["content"] == "latest"


async def test_tool_calls_and_results_follow_the_last_user_message() -> None:
    recorder = Recorder(lambda r: httpx2.Response(200, json=ok_body()))
    request = simple_request(
        tools=[ToolSpec(name="recall", description="search memory", input_schema={"type": "object"})],
        tool_calls=[ToolCall(id="tu_1", name="recall", arguments={"query": "cats"})],
        tool_results=[ToolResult(call_id="tu_1", name="recall", content="no results", is_error=True)],
    )
    await make_client(recorder).generate(request)
    body = recorder.body
    assert body["tools"] == [{"name": "recall", "description": "search memory", "input_schema": {"type": "object"}}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "tu_1", "name": "recall", "input": {"query": "cats"}}
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "tu_1", "content": "no results", "is_error": True}
    ]


async def test_response_text_tool_calls_and_usage() -> None:
    content = [
        {"type": "text", "text": "Let me "},
        {"type": "text", "text": "check."},
        {"type": "tool_use", "id": "tu_9", "name": "recall", "input": {"query": "dogs"}},
    ]
    body = ok_body(content, cache_read_input_tokens=1200, cache_creation_input_tokens=None)
    body["stop_reason"] = "tool_use"
    recorder = Recorder(lambda r: httpx2.Response(200, json=body))
    response = await make_client(recorder).generate(simple_request(max_output_tokens=77))
    assert recorder.body["max_tokens"] == 77
    assert response.text == "Let me check."
    assert response.tool_calls == [ToolCall(id="tu_9", name="recall", arguments={"query": "dogs"})]
    assert response.usage.input_tokens == 10
    assert response.usage.output_tokens == 5
    assert response.usage.cache_read_input_tokens == 1200
    assert response.usage.cache_creation_input_tokens == 0
    assert (response.provider, response.model, response.stop_reason) == ("anthropic", "claude-test", "tool_use")


async def test_429_is_unavailable_with_retry_after_and_not_retried_by_sdk() -> None:
    recorder = Recorder(
        lambda r: httpx2.Response(429, json=error_body("rate_limit_error", "slow down"), headers={"retry-after": "7"})
    )
    with pytest.raises(ModelUnavailable) as caught:
        await make_client(recorder).generate(simple_request())
    assert caught.value.retry_after_seconds == 7
    assert len(recorder.requests) == 1


async def test_retry_after_ms_is_preferred_and_long_waits_are_clamped() -> None:
    recorder = Recorder(
        lambda r: httpx2.Response(
            429, json=error_body("rate_limit_error", "x"), headers={"retry-after-ms": "1500", "retry-after": "2"}
        )
    )
    with pytest.raises(ModelUnavailable) as caught:
        await make_client(recorder).generate(simple_request())
    assert caught.value.retry_after_seconds == 1.5

    recorder = Recorder(lambda r: httpx2.Response(429, json=error_body("x", "x"), headers={"retry-after": "3600"}))
    with pytest.raises(ModelUnavailable) as caught:
        await make_client(recorder).generate(simple_request())
    assert caught.value.retry_after_seconds == 60.0


@pytest.mark.parametrize("status", [500, 503, 529, 408])
async def test_transient_statuses_are_unavailable_after_one_attempt(status: int) -> None:
    recorder = Recorder(lambda r: httpx2.Response(status, json=error_body("overloaded_error", "busy")))
    with pytest.raises(ModelUnavailable) as caught:
        await make_client(recorder).generate(simple_request())
    assert caught.value.retry_after_seconds is None
    assert len(recorder.requests) == 1


async def test_connection_failure_is_unavailable() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    recorder = Recorder(refuse)
    with pytest.raises(ModelUnavailable):
        await make_client(recorder).generate(simple_request())
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "status,message",
    [
        (400, "prompt is too long: 210000 tokens > 200000 maximum"),
        (400, "Input exceeds the Context Window of this model"),
        (413, "Request exceeds the maximum allowed number of bytes."),
    ],
)
async def test_oversized_prompt_is_context_window_exceeded(status: int, message: str) -> None:
    recorder = Recorder(lambda r: httpx2.Response(status, json=error_body("invalid_request_error", message)))
    with pytest.raises(ContextWindowExceeded):
        await make_client(recorder).generate(simple_request())


async def test_other_400_is_rejected_but_not_context_window() -> None:
    recorder = Recorder(
        lambda r: httpx2.Response(400, json=error_body("invalid_request_error", "messages: roles must alternate"))
    )
    with pytest.raises(ModelRequestRejected) as caught:
        await make_client(recorder).generate(simple_request())
    assert not isinstance(caught.value, ContextWindowExceeded)
    assert "400" in str(caught.value) and "roles must alternate" in str(caught.value)


async def test_401_is_rejected_without_leaking_the_key() -> None:
    recorder = Recorder(
        lambda r: httpx2.Response(401, json=error_body("authentication_error", f"invalid x-api-key {API_KEY}"))
    )
    with pytest.raises(ModelRequestRejected) as caught:
        await make_client(recorder).generate(simple_request())
    assert "401" in str(caught.value) and "invalid x-api-key" in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert len(recorder.requests) == 1
