"""Claude behind the provider-neutral LLMClient interface."""

from __future__ import annotations

import re
from typing import Any

import anthropic
import httpx2

from memory.embedding.http_errors import is_transient_status, parse_retry_after, redact
from memory.llm.base import (
    ContextWindowExceeded,
    ModelCallFailed,
    ModelRequest,
    ModelRequestRejected,
    ModelResponse,
    ModelUnavailable,
    ModelUsage,
    ToolCall,
)

# The API allows 4 cache breakpoints per request; system keeps 3 so one stays free for messages.
_MAX_SYSTEM_BREAKPOINTS = 3
_CONTINUATION = "(conversation continues)"
_TOO_LONG = re.compile(r"prompt is too long|context window|context limit|too many tokens", re.IGNORECASE)


class AnthropicClient:
    provider = "anthropic"

    def __init__(
        self,
        api_key: str,
        model: str,
        *,
        timeout_seconds: float = 60.0,
        # The SDK talks through httpx2 and refuses plain httpx clients.
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.model = model
        self._api_key = api_key
        # max_retries=0: Temporal owns retries; SDK retries inside an activity would hide
        # failures from its backoff and multiply attempts.
        self._client = anthropic.AsyncAnthropic(
            api_key=api_key, max_retries=0, timeout=timeout_seconds, http_client=http_client
        )

    async def generate(self, request: ModelRequest) -> ModelResponse:
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_output_tokens,
            "system": _system_blocks(request),
            "messages": _messages(request),
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        if request.tools:
            params["tools"] = [tool.model_dump() for tool in request.tools]
        try:
            message = await self._client.messages.create(**params)
        except anthropic.AnthropicError as err:
            raise _classify(err, self._api_key) from None
        usage = message.usage
        return ModelResponse(
            text="".join(block.text for block in message.content if block.type == "text"),
            tool_calls=[
                ToolCall(id=block.id, name=block.name, arguments=dict(block.input))
                for block in message.content
                if block.type == "tool_use"
            ],
            usage=ModelUsage(
                input_tokens=usage.input_tokens or 0,
                output_tokens=usage.output_tokens or 0,
                cache_read_input_tokens=usage.cache_read_input_tokens or 0,
                cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            ),
            provider=self.provider,
            model=self.model,
            stop_reason=message.stop_reason,
        )

    async def aclose(self) -> None:
        await self._client.close()


def _system_blocks(request: ModelRequest) -> list[dict[str, Any]]:
    cacheable = [i for i, block in enumerate(request.system) if block.cacheable]
    # The last breakpoints cover the longest stable prefixes, so those are the ones to keep.
    breakpoints = set(cacheable[-_MAX_SYSTEM_BREAKPOINTS:])
    blocks: list[dict[str, Any]] = []
    for i, block in enumerate(request.system):
        entry: dict[str, Any] = {"type": "text", "text": block.text}
        if i in breakpoints:
            entry["cache_control"] = {"type": "ephemeral"}
        blocks.append(entry)
    return blocks


def _messages(request: ModelRequest) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for message in request.messages:
        if not message.content.strip():
            continue  # the API rejects blank text, and a blank message says nothing
        if merged and merged[-1]["role"] == message.role:
            merged[-1]["content"] += "\n\n" + message.content
        else:
            merged.append({"role": message.role, "content": message.content})
    if not merged or merged[0]["role"] != "user":
        merged.insert(0, {"role": "user", "content": _CONTINUATION})
    if request.tool_calls:
        uses = [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            for call in request.tool_calls
        ]
        if merged[-1]["role"] == "assistant":
            merged[-1]["content"] = [{"type": "text", "text": merged[-1]["content"]}, *uses]
        else:
            merged.append({"role": "assistant", "content": uses})
    if request.tool_results:
        results = [
            {"type": "tool_result", "tool_use_id": r.call_id, "content": r.content, "is_error": r.is_error}
            for r in request.tool_results
        ]
        merged.append({"role": "user", "content": results})
    return merged


def _classify(err: anthropic.AnthropicError, api_key: str) -> ModelCallFailed:
    if isinstance(err, anthropic.APIStatusError):
        status = err.status_code
        detail = redact(err.api_message or err.message, api_key)
        message = f"Anthropic API returned HTTP {status}: {detail}"
        if err.request_id:
            message += f" (request-id {err.request_id})"
        if is_transient_status(status):
            return ModelUnavailable(message, retry_after_seconds=parse_retry_after(err.response.headers))
        if status == 413 or (status == 400 and _TOO_LONG.search(detail)):
            return ContextWindowExceeded(message)
        return ModelRequestRejected(message)
    if isinstance(err, anthropic.APIConnectionError):  # timeouts are a subclass
        return ModelUnavailable(f"Anthropic API unreachable: {type(err).__name__}: {err.message}")
    # Anything else is the SDK refusing the call locally; repeating it would fail the same way.
    return ModelRequestRejected(redact(f"Anthropic SDK error: {type(err).__name__}: {err}", api_key))
