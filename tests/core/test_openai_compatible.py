"""The OpenAI-compatible provider against a local server speaking the Chat Completions wire
format: what it sends, what it reads back, and how it classifies failures."""

from __future__ import annotations

import pytest

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
from memory.llm.openai_compatible import OpenAICompatibleClient
from tests.chat_completions_server import ChatCompletionsServer, completion

LOOKUP = ToolSpec(
    name="lookup_order",
    description="Look up an order.",
    input_schema={"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)


def request(**more) -> ModelRequest:
    return ModelRequest(
        system=[TextBlock(text="You are terse.", cacheable=True), TextBlock(text="## Notebook\nA fact.")],
        messages=[ChatMessage(role="user", content="Where is order A1?")],
        **more,
    )


async def test_a_tool_call_and_its_usage_come_back_in_the_runtime_s_terms():
    server = ChatCompletionsServer()
    server.reply(200, completion(
        tool_calls=[{"id": "call_1", "type": "function",
                     "function": {"name": "lookup_order", "arguments": '{"order_id": "A1"}'}}],
        prompt=500, cached=384,
    ))
    with server.running() as base_url:
        client = OpenAICompatibleClient("llama3.1", base_url=base_url, api_key="sk-local-123")
        response = await client.generate(request(tools=[LOOKUP], temperature=0.2, max_output_tokens=300))
        await client.aclose()
    assert response.tool_calls == [ToolCall(id="call_1", name="lookup_order", arguments={"order_id": "A1"})]
    # Cached tokens are counted apart, as the Anthropic client counts them.
    assert (response.usage.input_tokens, response.usage.cache_read_input_tokens) == (116, 384)
    assert (response.provider, response.model, response.stop_reason) == ("openai", "llama3.1", "tool_calls")
    sent = server.requests[0]
    assert sent["messages"][0] == {"role": "system", "content": "You are terse.\n\n## Notebook\nA fact."}
    assert sent["tools"][0]["function"]["name"] == "lookup_order"
    assert (sent["temperature"], sent["max_tokens"], sent["model"]) == (0.2, 300, "llama3.1")
    assert server.headers[0]["authorization"] == "Bearer sk-local-123"


async def test_tool_results_go_back_as_tool_messages_after_the_assistant_s_call():
    server = ChatCompletionsServer()
    with server.running() as base_url:
        client = OpenAICompatibleClient("llama3.1", base_url=base_url)
        response = await client.generate(request(
            tool_calls=[ToolCall(id="call_1", name="lookup_order", arguments={"order_id": "A1"})],
            tool_results=[ToolResult(call_id="call_1", name="lookup_order", content="shipped")],
        ))
        await client.aclose()
    assert response.text == "Hello from the local model."
    messages = server.requests[0]["messages"]
    assert messages[-2]["tool_calls"][0]["function"] == {"name": "lookup_order", "arguments": '{"order_id": "A1"}'}
    assert messages[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}
    # A local server needs no key, and gets no empty bearer.
    assert "authorization" not in server.headers[0]


async def test_429_is_retryable_with_the_server_s_retry_after_and_the_key_never_shows():
    server = ChatCompletionsServer()
    server.reply(429, {"error": {"message": "Rate limit for key sk-secret-9 reached"}}, {"retry-after": "7"})
    with server.running() as base_url:
        client = OpenAICompatibleClient("gpt-4o-mini", base_url=base_url, api_key="sk-secret-9")
        with pytest.raises(ModelUnavailable) as caught:
            await client.generate(request())
        await client.aclose()
    assert caught.value.retry_after_seconds == 7
    assert "HTTP 429" in str(caught.value) and "sk-secret-9" not in str(caught.value)


async def test_400_is_refused_with_the_provider_s_message_and_an_overflow_is_told_apart():
    server = ChatCompletionsServer()
    server.reply(400, {"error": {"message": "Invalid value for 'temperature'"}})
    server.reply(400, {"error": {"message": "This model's maximum context length is 8192 tokens"}})
    with server.running() as base_url:
        client = OpenAICompatibleClient("gpt-4o-mini", base_url=base_url)
        with pytest.raises(ModelRequestRejected, match="Invalid value for 'temperature'") as caught:
            await client.generate(request())
        assert not isinstance(caught.value, ContextWindowExceeded)
        with pytest.raises(ContextWindowExceeded):
            await client.generate(request())
        await client.aclose()


async def test_an_unreachable_endpoint_is_transient():
    client = OpenAICompatibleClient("llama3.1", base_url="http://127.0.0.1:9/v1", timeout_seconds=2)
    with pytest.raises(ModelUnavailable, match="unreachable"):
        await client.generate(request())
    await client.aclose()
