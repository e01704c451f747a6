"""Any OpenAI-compatible Chat Completions endpoint behind the provider-neutral LLMClient.

One wire format covers OpenAI, Azure OpenAI, Ollama, vLLM and LM Studio; only the base
URL and key differ. Plain HTTP (no SDK), so retries stay Temporal's alone, and failures
are classified exactly like the Anthropic client's.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from memory.embedding.http_errors import (
    is_transient_status,
    parse_retry_after,
    provider_error_message,
    redact,
)
from memory.llm.base import (
    ContextWindowExceeded,
    ModelRequest,
    ModelRequestRejected,
    ModelResponse,
    ModelUnavailable,
    ModelUsage,
    ToolCall,
)

_TOO_LONG = re.compile(r"context length|context window|maximum context|too many tokens|prompt is too long", re.I)
_CONTINUATION = "(conversation continues)"


class OpenAICompatibleClient:
    provider = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        timeout_seconds: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key or ""
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout_seconds)

    async def generate(self, request: ModelRequest) -> ModelResponse:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": request.max_output_tokens,
            "messages": chat_messages(request),
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}}
                for t in request.tools
            ]
        # A local server (Ollama, vLLM) often needs no key; sending an empty bearer confuses some.
        headers = {"authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            response = await self._client.post(f"{self.base_url}/chat/completions", json=body, headers=headers)
        except httpx.TransportError as err:  # timeouts, refused connections, resets
            raise ModelUnavailable(f"{self._where()} unreachable: {type(err).__name__}: {err}") from None
        if response.status_code >= 400:
            raise self._classify(response)
        try:
            return self._parse(response.json())
        except (ValueError, KeyError, IndexError, TypeError) as err:
            # A malformed body from a proxy or a half-compatible server: another try may succeed.
            raise ModelUnavailable(f"{self._where()} answered with an unreadable body: {err}") from None

    def _where(self) -> str:
        return f"Chat Completions endpoint {self.base_url}"

    def _classify(self, response: httpx.Response) -> Exception:
        status = response.status_code
        detail = redact(provider_error_message(response), self._api_key)
        message = f"{self._where()} returned HTTP {status}: {detail}"
        if is_transient_status(status):
            return ModelUnavailable(message, retry_after_seconds=parse_retry_after(response.headers))
        if status == 413 or (status == 400 and _TOO_LONG.search(detail)):
            return ContextWindowExceeded(message)
        return ModelRequestRejected(message)

    def _parse(self, body: dict[str, Any]) -> ModelResponse:
        choice = body["choices"][0]
        message = choice["message"]
        calls = [
            ToolCall(id=call["id"], name=call["function"]["name"], arguments=_arguments(call["function"].get("arguments")))
            for call in message.get("tool_calls") or []
        ]
        usage = body.get("usage") or {}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        prompt = usage.get("prompt_tokens") or 0
        return ModelResponse(
            text=message.get("content") or "",
            tool_calls=calls,
            # Anthropic counts cached tokens apart from input tokens; do the same, so the
            # ledger and the cache metrics mean one thing whichever provider answered.
            usage=ModelUsage(
                input_tokens=max(prompt - cached, 0),
                output_tokens=usage.get("completion_tokens") or 0,
                cache_read_input_tokens=cached,
            ),
            provider=self.provider,
            model=body.get("model") or self.model,
            stop_reason=choice.get("finish_reason"),
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except json.JSONDecodeError:
        # The model wrote broken JSON: the tool layer refuses it with a message the model can read.
        return {"_unparsed_arguments": str(raw)[:1000]}
    return parsed if isinstance(parsed, dict) else {"_unparsed_arguments": str(raw)[:1000]}


def chat_messages(request: ModelRequest) -> list[dict[str, Any]]:
    """The system blocks as one system message (in order, so the cache-stable prefix stays a
    prefix), the thread, then this turn's tool calls and their results."""
    messages: list[dict[str, Any]] = []
    system = "\n\n".join(block.text for block in request.system)
    if system:
        messages.append({"role": "system", "content": system})
    for message in request.messages:
        if message.content.strip():
            messages.append({"role": message.role, "content": message.content})
    if len(messages) == (1 if system else 0):
        messages.append({"role": "user", "content": _CONTINUATION})
    if request.tool_calls:
        messages.append(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                    for c in request.tool_calls
                ],
            }
        )
    for result in request.tool_results:
        content = f"error: {result.content}" if result.is_error else result.content
        messages.append({"role": "tool", "tool_call_id": result.call_id, "content": content})
    return messages
