"""Who an activity works for, and what it touched: the tenant, agent and thread go into a
contextvar (so every log line and span in the activity carries them, and concurrent
activities never see each other's), and each memory layer touched gets a span."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

from memory.core.refs import AgentRef, ThreadRef
from memory.core.telemetry import LayerSpan, layer_span, owner_scope
from memory.prompt.manifest import ContextItem

R = TypeVar("R")
log = logging.getLogger(__name__)


def owner_of(request: Any) -> AbstractContextManager:
    """The owner scope of an activity's input, wherever the input names its owner."""
    for candidate in (
        request,
        getattr(request, "thread", None),
        getattr(getattr(request, "session", None), "thread", None),
        getattr(request, "agent", None),
    ):
        if isinstance(candidate, ThreadRef):
            return owner_scope(candidate.tenant_id, candidate.agent_id, candidate.thread_id)
        if isinstance(candidate, AgentRef):
            return owner_scope(candidate.tenant_id, candidate.agent_id)
    tenant_id = getattr(request, "tenant_id", None)
    return owner_scope(tenant_id) if isinstance(tenant_id, str) else nullcontext()


def traced(layer: str, operation: str) -> Callable[[Callable[..., Awaitable[R]]], Callable[..., Awaitable[R]]]:
    """A span for the layer the activity touches, with what it returned."""

    def decorate(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(self, request):
            async with layer_span(layer, operation) as span:
                result = await fn(self, request)
                _describe(span, result)
            # Names the request's own tenant, so a log line can be checked against its context.
            log.debug("%s %s done for tenant %s", layer, operation, _tenant_of(request))
            return result

        return wrapper

    return decorate


def _describe(span: LayerSpan, result: Any) -> None:
    if isinstance(result, tuple):  # a turn's read: (its items, what it leaves the commit to bill)
        result = result[0]
    items = getattr(result, "items", result)
    if isinstance(items, list) and all(isinstance(i, ContextItem) for i in items):
        span.record(len(items), [item.ref for item in items])
    elif isinstance(entries := getattr(result, "entries", None), list):
        span.record(len(entries))
    elif (usage := getattr(result, "usage", None)) is not None:
        span.record(len(getattr(result, "tool_calls", [])))
        span.model_usage(
            usage.input_tokens, usage.output_tokens, usage.cache_read_input_tokens, usage.cache_creation_input_tokens
        )
    elif isinstance(row_id := getattr(result, "id", result), int):
        span.record(1, [row_id])


def _tenant_of(request: Any) -> str | None:
    for owner in (getattr(request, "thread", None), getattr(getattr(request, "session", None), "thread", None),
                  getattr(request, "agent", None), request):
        if isinstance(owner, AgentRef):
            return owner.tenant_id
    return getattr(request, "tenant_id", None)
