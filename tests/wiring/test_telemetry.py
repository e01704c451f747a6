"""Layer spans, owner context on logs and spans, and when tracing turns itself on."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import StatusCode

from memory.core import telemetry
from memory.core.telemetry import (
    OwnerLogFilter,
    configure_tracing,
    install_log_context,
    layer_span,
    owner,
    owner_scope,
    set_latency_observer,
    shutdown_tracing,
)

log = logging.getLogger("tests.telemetry")


@pytest.fixture
def latencies():
    seen: list[tuple[str, str, float]] = []
    set_latency_observer(lambda layer, operation, seconds: seen.append((layer, operation, seconds)))
    yield seen
    set_latency_observer(None)


@pytest.fixture
def records(caplog):
    install_log_context(caplog.handler)
    caplog.set_level(logging.INFO, logger=log.name)
    return caplog


def only_span(spans):
    finished = spans.get_finished_spans()
    assert len(finished) == 1, [span.name for span in finished]
    return finished[0]


async def test_a_layer_span_says_which_layer_answered_whom_with_what(spans):
    with owner_scope("acme", "support-bot", "thread-7"):
        async with layer_span("recall", "search", query_chars=42) as layer:
            layer.record(3, [17, "doc-2", 9], embedding_model="offline-v1")

    span = only_span(spans)
    assert span.name == "memory.recall.search"
    attributes = span.attributes
    assert attributes["memory.layer"] == "recall"
    assert attributes["memory.operation"] == "search"
    assert attributes["agent.tenant_id"] == "acme"
    assert attributes["agent.agent_id"] == "support-bot"
    assert attributes["agent.thread_id"] == "thread-7"
    assert attributes["memory.items_returned"] == 3
    assert list(attributes["memory.source_ids"]) == ["17", "doc-2", "9"]
    assert attributes["memory.query_chars"] == 42
    assert attributes["memory.embedding_model"] == "offline-v1"
    assert attributes["memory.latency_ms"] >= 0
    assert span.status.status_code is not StatusCode.ERROR


async def test_source_ids_are_capped_but_the_item_count_is_not(spans):
    async with layer_span("graph", "search") as layer:
        layer.record(120, range(120))

    attributes = only_span(spans).attributes
    assert attributes["memory.items_returned"] == 120
    assert list(attributes["memory.source_ids"]) == [str(n) for n in range(50)]


async def test_a_span_outside_any_owner_scope_names_no_tenant(spans):
    async with layer_span("skills", "load"):
        pass

    attributes = only_span(spans).attributes
    assert not any(key.startswith("agent.") for key in attributes)


async def test_model_calls_report_prompt_cache_tokens_summed_over_the_span(spans):
    async with layer_span("conversation", "summarise") as layer:
        layer.model_usage(input_tokens=1200, output_tokens=80, cache_read=1000, cache_write=150)
        layer.model_usage(input_tokens=300, output_tokens=20, cache_read=250, cache_write=None)

    attributes = only_span(spans).attributes
    assert attributes["llm.input_tokens"] == 1500
    assert attributes["llm.output_tokens"] == 100
    assert attributes["llm.prompt_cache.read_tokens"] == 1250
    assert attributes["llm.prompt_cache.write_tokens"] == 150


async def test_a_span_without_a_model_call_has_no_token_attributes(spans):
    async with layer_span("notebook", "read") as layer:
        layer.record(1, ["/notebook.md"])

    assert not any(key.startswith("llm.") for key in only_span(spans).attributes)


async def test_a_failing_layer_marks_its_span_as_an_error_and_still_reports_latency(spans, latencies):
    with pytest.raises(RuntimeError, match="graph unreachable"):
        async with layer_span("graph", "search"):
            raise RuntimeError("graph unreachable")

    span = only_span(spans)
    assert span.status.status_code is StatusCode.ERROR
    exception = next(event for event in span.events if event.name == "exception")
    assert exception.attributes["exception.message"] == "graph unreachable"
    assert "memory.latency_ms" in span.attributes
    assert [(layer, operation) for layer, operation, _ in latencies] == [("graph", "search")]


async def test_the_latency_observer_gets_layer_operation_and_seconds(spans, latencies):
    async with layer_span("episodic", "recent"):
        await asyncio.sleep(0.05)

    [(layer, operation, seconds)] = latencies
    assert (layer, operation) == ("episodic", "recent")
    assert 0.05 <= seconds < 5
    assert only_span(spans).attributes["memory.latency_ms"] == pytest.approx(seconds * 1000)


async def test_with_tracing_off_latency_is_still_measured_and_observed(spans, latencies, monkeypatch):
    monkeypatch.setattr(telemetry, "tracer", lambda: trace.NoOpTracer())

    async with layer_span("recall", "search") as layer:
        await asyncio.sleep(0.01)
        layer.record(2, [1, 2])

    assert layer.latency_seconds >= 0.01
    assert [(name, op) for name, op, _ in latencies] == [("recall", "search")]
    assert spans.get_finished_spans() == ()


async def test_a_broken_latency_observer_does_not_fail_the_memory_operation(spans):
    def broken(layer, operation, seconds):
        raise ValueError("metrics backend gone")

    set_latency_observer(broken)
    try:
        async with layer_span("recall", "search") as layer:
            layer.record(0)
    finally:
        set_latency_observer(None)

    assert only_span(spans).status.status_code is not StatusCode.ERROR


async def test_concurrent_turns_of_different_tenants_never_see_each_other(spans, records):
    rng = random.Random(7)

    async def turn(n: int) -> None:
        with owner_scope(f"tenant-{n}", f"agent-{n}", f"thread-{n}"):
            await asyncio.sleep(rng.random() / 100)
            log.info("turn %d starts", n)
            async with layer_span("conversation", "load") as layer:
                await asyncio.sleep(rng.random() / 100)
                log.info("turn %d reads", n)
                await asyncio.sleep(rng.random() / 100)
                layer.record(1, [n])
            await asyncio.sleep(rng.random() / 100)
            log.info("turn %d ends", n)

    await asyncio.gather(*(turn(n) for n in range(50)))

    lines = [record for record in records.records if record.name == log.name]
    assert len(lines) == 150
    for record in lines:
        n = record.args[0]
        assert (record.tenant, record.agent, record.thread_id) == (f"tenant-{n}", f"agent-{n}", f"thread-{n}")

    finished = spans.get_finished_spans()
    assert len(finished) == 50
    trace_of_turn = {}
    for span in finished:
        n = int(span.attributes["memory.source_ids"][0])
        assert span.attributes["agent.tenant_id"] == f"tenant-{n}"
        assert span.attributes["agent.thread_id"] == f"thread-{n}"
        trace_of_turn[n] = trace.format_trace_id(span.context.trace_id)
    # Each turn's span is a root of its own trace: a log line inside it carries that trace,
    # lines outside it carry none.
    assert len(set(trace_of_turn.values())) == 50
    for record in lines:
        n = record.args[0]
        expected = trace_of_turn[n] if "reads" in record.msg else "-"
        assert record.trace_id == expected
    assert owner() is None


async def test_log_lines_outside_any_scope_carry_dashes(records):
    log.info("no tenant here")
    with owner_scope("acme"):
        log.info("tenant only")
    log.info("after the scope")

    outside, inside, after = [record for record in records.records if record.name == log.name]
    assert (outside.tenant, outside.agent, outside.thread_id, outside.trace_id) == ("-", "-", "-", "-")
    assert (inside.tenant, inside.agent, inside.thread_id) == ("acme", "-", "-")
    assert after.tenant == "-"


def test_nested_scopes_restore_the_outer_owner():
    with owner_scope("acme", "bot"):
        with owner_scope("globex", "helper", "t-2"):
            assert owner().tenant_id == "globex"
        assert owner().tenant_id == "acme" and owner().thread_id is None
    assert owner() is None


def test_installing_log_context_twice_adds_one_filter_and_shows_the_owner_in_the_line():
    handler = logging.StreamHandler()
    install_log_context(handler)
    install_log_context(handler)
    assert sum(isinstance(existing, OwnerLogFilter) for existing in handler.filters) == 1

    record = logging.LogRecord("worker", logging.INFO, __file__, 1, "recalled %d items", (4,), None)
    with owner_scope("acme", "support-bot", "thread-7"):
        handler.filter(record)
    line = handler.format(record)
    assert "tenant=acme agent=support-bot thread=thread-7 trace=-" in line
    assert line.endswith("recalled 4 items")


def test_installing_log_context_on_a_logger_covers_its_handlers():
    logger = logging.getLogger("tests.telemetry.install")
    first, second = logging.StreamHandler(), logging.StreamHandler()
    logger.addHandler(first)
    logger.addHandler(second)
    try:
        install_log_context(logger)
        assert all(any(isinstance(f, OwnerLogFilter) for f in h.filters) for h in (first, second))
    finally:
        logger.removeHandler(first)
        logger.removeHandler(second)


@pytest.fixture
def installed(monkeypatch):
    """The providers configure_tracing tries to install, without touching the process's global one."""
    providers: list[TracerProvider] = []
    monkeypatch.setattr(trace, "set_tracer_provider", providers.append)
    yield providers
    shutdown_tracing()


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"OTEL_SERVICE_NAME": "worker-a"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SDK_DISABLED": "true"},
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "  "},
    ],
)
def test_without_an_otlp_endpoint_tracing_stays_off(installed, environ):
    assert configure_tracing(environ=environ) is False
    assert installed == []


@pytest.mark.parametrize("variable", ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"])
def test_an_otlp_endpoint_turns_tracing_on(installed, variable):
    assert configure_tracing(environ={variable: "http://127.0.0.1:1"}) is True
    [provider] = installed
    assert isinstance(provider, TracerProvider)
    assert provider.resource.attributes["service.name"] == "agent-memory-worker"
    # A second call keeps the provider it has rather than stacking another.
    assert configure_tracing(environ={variable: "http://127.0.0.1:1"}) is True
    assert len(installed) == 1


def test_the_service_name_variable_wins_over_the_default(installed):
    environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_SERVICE_NAME": "memory-eu-1"}
    assert configure_tracing(service_name="agent-memory-client", environ=environ) is True
    assert installed[0].resource.attributes["service.name"] == "memory-eu-1"
