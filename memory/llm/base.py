"""The one interface every language model sits behind.

Errors are classified here, in provider-neutral terms, so that the Temporal layer
can decide what to retry without knowing which provider produced them.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class TextBlock(BaseModel):
    text: str
    # A block marked cacheable ends a stable prefix; providers that support prompt
    # caching place a breakpoint after it.
    cacheable: bool = False


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class ToolSpec(BaseModel):
    name: str
    description: str
    input_schema: dict[str, Any]


class ToolCall(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any]


class ToolResult(BaseModel):
    call_id: str
    name: str
    content: str
    is_error: bool = False


class ModelRequest(BaseModel):
    system: list[TextBlock]
    messages: list[ChatMessage]
    tools: list[ToolSpec] = Field(default_factory=list)
    # Results of tool calls made earlier in this turn, in call order.
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_results: list[ToolResult] = Field(default_factory=list)
    max_output_tokens: int = 1024
    # None: the provider's default. An agent definition may set it.
    temperature: float | None = None
    # What the call is for: "agent_turn", "summary" (the conversation's), "episode_summary"
    # or "reflection". Offline models behave by it; providers ignore it.
    purpose: str = "agent_turn"


class ModelUsage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


class ModelResponse(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: ModelUsage = Field(default_factory=ModelUsage)
    provider: str
    model: str
    stop_reason: str | None = None


class LLMClient(Protocol):
    provider: str
    model: str

    async def generate(self, request: ModelRequest) -> ModelResponse: ...


class ModelCallFailed(Exception):
    """Base for classified model failures."""


class ModelUnavailable(ModelCallFailed):
    """Transient: rate limited, overloaded, 5xx, timeout, connection reset. Retry."""

    def __init__(self, message: str, retry_after_seconds: float | None = None):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ModelRequestRejected(ModelCallFailed):
    """Permanent: the provider refused this request (400-class). Retrying cannot help."""


class ContextWindowExceeded(ModelRequestRejected):
    """The assembled context does not fit the model's window. Summarise, then retry once."""
