"""The worker's metrics endpoint: one scrape carries our metrics and the Temporal SDK's."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity, workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from memory.core.metrics import SESSION_CACHE_LOOKUPS
from tests.conftest import _binary
from wiring.metrics_endpoint import (
    CONTENT_TYPE,
    sdk_metrics_url,
    serve_metrics,
    temporal_runtime,
)


@activity.defn
async def shout(word: str) -> str:
    return word.upper()


# Not sandboxed: the sandbox would re-import this module and its fixtures' imports.
@workflow.defn(sandboxed=False)
class ShoutWorkflow:
    @workflow.run
    async def run(self, word: str) -> str:
        return await workflow.execute_activity(shout, word, start_to_close_timeout=timedelta(seconds=30))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def _samples(body: str) -> list:
    """Every sample in the body, parsed as Prometheus would: a malformed line raises."""
    return [sample for family in text_string_to_metric_families(body) for sample in family.samples]


async def test_one_scrape_holds_our_metrics_and_the_temporal_sdks_for_the_work_just_done():
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    sdk_address = f"127.0.0.1:{_free_port()}"
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"), runtime=temporal_runtime(sdk_address)
    )
    try:
        task_queue = f"metrics-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[ShoutWorkflow], activities=[shout]):
            result = await env.client.execute_workflow(
                ShoutWorkflow.run, "hello", id=f"shout-{uuid.uuid4()}", task_queue=task_queue
            )
        SESSION_CACHE_LOOKUPS.labels(tenant=tenant).inc(3)

        server = serve_metrics(0, sdk_metrics_url(sdk_address), host="127.0.0.1")
        try:
            status, content_type, body = _get(server.port, "/metrics")
        finally:
            server.close()
    finally:
        await env.shutdown()

    assert result == "HELLO"
    assert status == 200
    assert content_type == CONTENT_TYPE
    samples = _samples(body)
    assert any(
        s.name == "agent_session_cache_lookups_total" and s.labels == {"tenant": tenant} and s.value == 3
        for s in samples
    )
    # The SDK's view of the same work: the activity ran once, the workflow completed once.
    assert any(
        s.name == "temporal_activity_execution_latency_count"
        and s.labels.get("activity_type") == "shout"
        and s.labels.get("task_queue") == task_queue
        and s.value == 1
        for s in samples
    )
    assert any(
        s.name.startswith("temporal_workflow_completed")
        and s.labels.get("workflow_type") == "ShoutWorkflow"
        and s.labels.get("task_queue") == task_queue
        for s in samples
    )


def test_an_unreachable_sdk_exporter_still_gives_our_metrics():
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    SESSION_CACHE_LOOKUPS.labels(tenant=tenant).inc()
    dead_url = f"http://127.0.0.1:{_free_port()}/metrics"
    server = serve_metrics(0, dead_url, host="127.0.0.1")
    try:
        status, content_type, body = _get(server.port, "/metrics")
    finally:
        server.close()

    assert status == 200
    assert content_type == CONTENT_TYPE
    assert any(s.name == "agent_session_cache_lookups_total" and s.labels == {"tenant": tenant} for s in _samples(body))
    # Says why the Temporal part is missing, as a comment Prometheus ignores.
    assert f"# Temporal SDK metrics unavailable from {dead_url}" in body
    assert not any(s.name.startswith("temporal_") for s in _samples(body))


def test_health_unknown_paths_and_shutdown():
    server = serve_metrics(0, None, host="127.0.0.1")
    port = server.port
    try:
        assert port != 0
        assert _get(port, "/healthz")[0] == 200
        assert _get(port, "/nothing-here")[0] == 404
        status, _, body = _get(port, "/metrics")
        assert status == 200 and "Temporal SDK metrics unavailable" not in body
    finally:
        server.close()
    # Closing frees the port, so a restarted worker can bind it again.
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
