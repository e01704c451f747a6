"""Who a piece of work is for, on every log line and span, and a span per memory layer touched.

One worker process runs many activities at once for different tenants, so "which tenant
is this" cannot live in a global: it lives in a contextvar that asyncio copies into each
task, and the log filter and the layer spans read it from there.

Tracing is off unless the standard OTLP variables are set. Off means the OpenTelemetry
API's no-op tracer: spans cost a context attach and nothing is exported. Layer latency
is measured either way, because the metrics observer wants it whether or not traces go
anywhere.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from pydantic import BaseModel

_log = logging.getLogger(__name__)

TRACER_NAME = "agent_memory"
MAX_SOURCE_IDS = 50  # a span attribute, not a result set: enough to find the rows, bounded in size


# --- who the work is for ---------------------------------------------------------------


class Owner(BaseModel, frozen=True):
    tenant_id: str
    agent_id: str | None = None
    thread_id: str | None = None


current_owner: ContextVar[Owner | None] = ContextVar("agent_memory_owner", default=None)


@contextmanager
def owner_scope(tenant_id: str, agent_id: str | None = None, thread_id: str | None = None) -> Iterator[Owner]:
    """Everything logged or traced inside this block, in this task, is attributed to this owner.

    Tasks started inside the block inherit it (asyncio copies the context); tasks started
    elsewhere never see it, which is what keeps concurrent tenants apart.
    """
    scoped = Owner(tenant_id=tenant_id, agent_id=agent_id, thread_id=thread_id)
    token = current_owner.set(scoped)
    try:
        yield scoped
    finally:
        current_owner.reset(token)


def owner() -> Owner | None:
    return current_owner.get()


# --- logs ---------------------------------------------------------------------------------

# `thread` is already a LogRecord attribute (the OS thread id) and logging refuses to let
# `extra` overwrite it, so the thread id travels as `thread_id`.
LOG_FORMAT = (
    "%(asctime)s %(name)s %(levelname)s "
    "[tenant=%(tenant)s agent=%(agent)s thread=%(thread_id)s trace=%(trace_id)s] %(message)s"
)


def current_trace_id() -> str:
    """Hex trace id of the active span, or "-" when there is none (or tracing is off)."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else "-"


class _OwnerFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(LOG_FORMAT)


class OwnerLogFilter(logging.Filter):
    """Stamps tenant, agent, thread and trace id on each record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A handler may see the same record twice (a logger and its parent share handlers);
        # the first stamp was taken in the emitting context, so it is the right one.
        if getattr(record, "tenant", None) is None:
            scoped = current_owner.get()
            record.tenant = scoped.tenant_id if scoped else "-"
            record.agent = (scoped.agent_id if scoped else None) or "-"
            record.thread_id = (scoped.thread_id if scoped else None) or "-"
            record.trace_id = current_trace_id()
        return True


def install_log_context(handler_or_root: logging.Handler | logging.Logger | None = None) -> None:
    """Attach the owner filter and a format that shows it; safe to call more than once.

    Filters go on handlers, not loggers: a logger's own filters do not run for records
    propagated from child loggers, which is where almost every record comes from.
    With no argument, every handler of the root logger is covered, and one writing to
    stderr is added if it has none.
    """
    if isinstance(handler_or_root, logging.Handler):
        handlers = [handler_or_root]
    else:
        logger = handler_or_root or logging.getLogger()
        if not logger.handlers:
            logger.addHandler(logging.StreamHandler())
        handlers = list(logger.handlers)
    for handler in handlers:
        if not any(isinstance(existing, OwnerLogFilter) for existing in handler.filters):
            handler.addFilter(OwnerLogFilter())
        if not isinstance(handler.formatter, _OwnerFormatter):
            handler.setFormatter(_OwnerFormatter())


# --- tracing setup -------------------------------------------------------------------------

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_provider: Any = None  # the SDK provider configure_tracing installed, kept to flush it on shutdown


def tracing_requested(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(env.get(name, "").strip() for name in _ENDPOINT_VARIABLES)


def configure_tracing(service_name: str = "agent-memory-worker", environ: Mapping[str, str] | None = None) -> bool:
    """Export spans over OTLP/HTTP when the standard variables ask for it; report whether they did.

    The exporter reads its endpoint, headers, timeout and compression from the process
    environment itself (`environ` only decides whether to turn tracing on). Call this
    before connecting the Temporal client so its interceptor's spans go to the same place.
    """
    global _provider
    if _provider is not None:
        return True
    env = os.environ if environ is None else environ
    if not tracing_requested(env):
        return False
    # Imported here so a process with tracing off never loads the SDK or the exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME, when set, names the deployment better than our default does.
    name = env.get("OTEL_SERVICE_NAME") or service_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _provider = provider
    return True


def shutdown_tracing() -> None:
    """Flush spans still waiting in the batch; for a worker's orderly stop."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def tracer() -> trace.Tracer:
    # Resolved per call, not at import: the provider may be installed after this module loads.
    return trace.get_tracer(TRACER_NAME)


# --- a span per memory layer -----------------------------------------------------------------

LatencyObserver = Callable[[str, str, float], None]
on_layer_latency: LatencyObserver | None = None


def set_latency_observer(fn: LatencyObserver | None) -> None:
    """Subscribe to (layer, operation, seconds) for every layer_span, e.g. a histogram; None to stop."""
    global on_layer_latency
    on_layer_latency = fn


@dataclass
class LayerSpan:
    """What one layer did in one turn, filled in by the caller and written to the span on exit."""

    layer: str
    operation: str
    items: int | None = None
    source_ids: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    latency_seconds: float | None = None

    def record(self, items: int, source_ids: Iterable[str | int] = (), **more: Any) -> None:
        """What the layer returned. A second call replaces the first: it describes the final answer."""
        self.items = items
        self.source_ids = [str(source_id) for source_id in source_ids][:MAX_SOURCE_IDS]
        self.attributes.update(more)

    def model_usage(
        self,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read: int | None = 0,
        cache_write: int | None = 0,
    ) -> None:
        """Tokens of one model call; calls within the same span add up."""
        self.input_tokens = (self.input_tokens or 0) + (input_tokens or 0)
        self.output_tokens = (self.output_tokens or 0) + (output_tokens or 0)
        self.cache_read_tokens = (self.cache_read_tokens or 0) + (cache_read or 0)
        self.cache_write_tokens = (self.cache_write_tokens or 0) + (cache_write or 0)

    def final_attributes(self) -> dict[str, Any]:
        result = _attributes(self.attributes)
        if self.items is not None:
            result["memory.items_returned"] = self.items
            result["memory.source_ids"] = list(self.source_ids)
        if self.latency_seconds is not None:
            result["memory.latency_ms"] = self.latency_seconds * 1000.0
        if self.input_tokens is not None:
            result["llm.input_tokens"] = self.input_tokens
            result["llm.output_tokens"] = self.output_tokens
            result["llm.prompt_cache.read_tokens"] = self.cache_read_tokens
            result["llm.prompt_cache.write_tokens"] = self.cache_write_tokens
        return result


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Caller-given extras as valid span attributes, namespaced under memory. unless already dotted."""
    result: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue  # OpenTelemetry rejects None; an absent attribute says the same thing
        if not isinstance(value, (str, bool, int, float)):
            value = [str(item) for item in value] if isinstance(value, (list, tuple, set)) else str(value)
        result[key if "." in key else f"memory.{key}"] = value
    return result


def _owner_attributes() -> dict[str, str]:
    scoped = current_owner.get()
    if scoped is None:
        return {}
    found = {
        "agent.tenant_id": scoped.tenant_id,
        "agent.agent_id": scoped.agent_id,
        "agent.thread_id": scoped.thread_id,
    }
    return {key: value for key, value in found.items() if value is not None}


@asynccontextmanager
async def layer_span(layer: str, operation: str, **attributes: Any) -> AsyncIterator[LayerSpan]:
    """A span named memory.<layer>.<operation> around one layer's work in a turn.

    Exceptions propagate unchanged; the span records them and is marked as an error.
    """
    state = LayerSpan(layer=layer, operation=operation)
    with tracer().start_as_current_span(
        f"memory.{layer}.{operation}",
        attributes={
            "memory.layer": layer,
            "memory.operation": operation,
            **_owner_attributes(),
            **_attributes(attributes),
        },
    ) as span:
        started = time.perf_counter()
        try:
            yield state
        finally:
            state.latency_seconds = time.perf_counter() - started
            if span.is_recording():
                span.set_attributes(state.final_attributes())
            _observe(layer, operation, state.latency_seconds)


def _observe(layer: str, operation: str, seconds: float) -> None:
    observer = on_layer_latency
    if observer is None:
        return
    try:
        observer(layer, operation, seconds)
    except Exception:
        # A broken metric must not fail the memory operation it was measuring.
        _log.warning("latency observer failed for %s.%s", layer, operation, exc_info=True)
