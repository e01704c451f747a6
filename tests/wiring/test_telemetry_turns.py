"""Many turns of different tenants at once in one worker: every span and every log line
names the tenant it worked for, and a turn's spans form one trace from the client on."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict

from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from clients.conversation import send_message
from contract.conversation import UserMessage
from memory.core.refs import ThreadRef
from memory.core.telemetry import install_log_context
from tests.conftest import running_worker

TURNS = 12


async def test_concurrent_turns_never_see_each_others_tenant(time_skipping_env, runtime, spans, caplog):
    install_log_context(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="activities.tracing")
    client = Client(**{**time_skipping_env.client.config(), "interceptors": [TracingInterceptor()]})
    threads = [
        ThreadRef(tenant_id=f"t-{uuid.uuid4().hex[:8]}-{n}", agent_id="support", thread_id=f"thread-{n}")
        for n in range(TURNS)
    ]
    async with running_worker(client, runtime) as tq:
        await asyncio.gather(
            *(send_message(client, t, UserMessage(text=f"Hello from tenant number {n}."), task_queue=tq)
              for n, t in enumerate(threads))
        )

    ours = {t.tenant_id for t in threads}
    memory_spans = [s for s in spans.get_finished_spans() if s.name.startswith("memory.")]
    tenants_by_trace: dict[int, set[str]] = defaultdict(set)
    for span in memory_spans:
        tenant = span.attributes.get("agent.tenant_id")
        if tenant in ours:
            tenants_by_trace[span.context.trace_id].add(tenant)
    # Every tenant's turn produced layer spans, and no trace mixes two tenants.
    assert {t for seen in tenants_by_trace.values() for t in seen} == ours
    assert all(len(seen) == 1 for seen in tenants_by_trace.values())
    layers = {span.attributes["memory.layer"] for span in memory_spans}
    assert {"conversation", "notebook", "recall", "model", "episodic", "skills", "session_cache"} <= layers
    # The client's own span starts the trace the workflow's activities continue.
    client_traces = {s.context.trace_id for s in spans.get_finished_spans() if not s.name.startswith("memory.")}
    assert set(tenants_by_trace) <= client_traces

    lines = [r for r in caplog.records if r.name == "activities.tracing" and r.args and r.args[-1] in ours]
    assert len(lines) >= TURNS * 5
    assert all(record.tenant == record.args[-1] for record in lines)
    assert all(record.trace_id != "-" for record in lines)
