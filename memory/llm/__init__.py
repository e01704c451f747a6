from memory.llm.base import (
    ContextWindowExceeded,
    LLMClient,
    ModelCallFailed,
    ModelRequest,
    ModelRequestRejected,
    ModelResponse,
    ModelUnavailable,
    ModelUsage,
    ToolCall,
    ToolSpec,
)

__all__ = [
    "ContextWindowExceeded",
    "LLMClient",
    "ModelCallFailed",
    "ModelRequest",
    "ModelRequestRejected",
    "ModelResponse",
    "ModelUnavailable",
    "ModelUsage",
    "ToolCall",
    "ToolSpec",
]
