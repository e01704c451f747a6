"""The worker process is killed (SIGKILL) while a defined agent's MCP tool call is in flight,
and another worker takes the turn over.

The agent answers on an OpenAI-compatible model (a local Chat Completions server that asks
for the tool, then answers) and calls a real MCP server over streamable HTTP, which notes
every call it receives. The worker is killed once the server has the call in hand. A tool
that may change something is not called again: its call is recorded as failed, the model is
told why, and the turn goes on. A tool its server marks read-only is called again on the
worker that took over. Either way the call leaves exactly one `tool_calls` row, with its
final status, and the turn completes once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from clients.agents import save_definition
from clients.conversation import send_message
from contract.agents import SaveAgentDefinition
from contract.conversation import UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.agents.models import AgentSpec, McpServer
from memory.core.schema import tool_calls, turns
from tests.chat_completions_server import ChatCompletionsServer, completion
from tests.conftest import finished
from tests.faults.killpoint import Workers, worker_settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
async def workers(tmp_path_factory):
    pool = Workers(tmp_path_factory.mktemp("workers"))
    yield pool
    await pool.close()


@pytest.fixture
def orders_server(tmp_path):
    """The fixture MCP server over streamable HTTP, noting each call it receives in a file."""
    calls = tmp_path / "calls.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.mcp_fixture_server", "http", str(port)],
        cwd=ROOT, env={**os.environ, "MCP_CALL_LOG": str(calls)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield McpServer(name="orders", transport="http", url=f"http://127.0.0.1:{port}/mcp", timeout_seconds=60), calls
    process.kill()
    process.wait()


async def calls_received(calls: Path, count: int, timeout: float = 60) -> list[str]:
    async with asyncio.timeout(timeout):
        while len(lines := (calls.read_text().splitlines() if calls.exists() else [])) < count:
            await asyncio.sleep(0.05)
    return lines


@pytest.mark.parametrize(
    "tool, arguments, product_timeouts, status, told, received",
    [
        # May change something: not called again; the dead worker is noticed when its heartbeats stop.
        ("slow_report", {"seconds": 45}, True, "failed", "the worker running it stopped responding",
         ["slow_report 45"]),
        # Read-only: called again on the worker that took over, and answers.
        ("lookup_order", {"order_id": "A1", "seconds": 1}, False, "ok", "order A1: 2 items, shipped on 2026-03-04",
         ["lookup_order A1", "lookup_order A1"]),
    ],
    ids=["side-effects-not-repeated", "read-only-retried"],
)
async def test_a_worker_killed_during_an_mcp_call_leaves_one_tool_call_row_with_its_final_status(
    dev_env, workers, runtime, thread, database_url, graph_url, redis_url, tmp_path, orders_server,
    tool, arguments, product_timeouts, status, told, received,
):
    server, calls = orders_server
    model = ChatCompletionsServer()
    model.reply(200, completion(tool_calls=[
        {"id": "call-1", "type": "function", "function": {"name": tool, "arguments": json.dumps(arguments)}}
    ]))
    model.reply(200, completion("Done, as far as the tool let me."))
    settings = worker_settings(dev_env.client.service_client.config.target_host, database_url, graph_url, redis_url, tmp_path / "scratch")
    client, queue = dev_env.client, settings["TASK_QUEUE"]
    first = await workers.start({**settings, **({"KEEP_ATTEMPT_TIMEOUTS": "1"} if product_timeouts else {})})
    second = None
    with model.running() as base_url:
        spec = AgentSpec(instructions="You look after Acme's orders.", model="openai/scripted", base_url=base_url,
                         mcp_servers=[server])
        await save_definition(client, SaveAgentDefinition(agent=thread.agent, spec=spec, author="alice"), task_queue=queue)
        reply = asyncio.create_task(send_message(client, thread, UserMessage(text="Check order A1."), task_queue=queue))
        try:
            await calls_received(calls, 1)
            os.kill(first.pid, signal.SIGKILL)  # the server has the call in hand
            assert await first.exited(10) == -signal.SIGKILL
            second = await workers.start(settings)
            result = await asyncio.wait_for(asyncio.shield(reply), 120)
            await finished(client, exchange_ingestion_id(thread, result.turn))
        finally:
            reply.cancel()  # only if the test failed before the reply came
            for process in (first, second):
                if process:
                    await process.stop()

    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(
            select(tool_calls.c.call_id, tool_calls.c.tool, tool_calls.c.status, tool_calls.c.output)
            .where(tool_calls.c.tenant_id == thread.tenant_id)
        )).all()
        turn_rows = (await conn.execute(
            select(turns.c.status, turns.c.agent_version).where(turns.c.tenant_id == thread.tenant_id)
        )).all()
    assert [(call_id, name, row_status) for call_id, name, row_status, _ in rows] == [("call-1", tool, status)]
    assert told in rows[0].output
    # What the model was told about the call is what the log says.
    tool_message = model.requests[-1]["messages"][-1]
    assert tool_message["role"] == "tool" and told in tool_message["content"]
    assert calls.read_text().splitlines() == received
    assert (result.reply, result.tools_used, result.agent_version) == ("Done, as far as the tool let me.", [tool], 1)
    assert turn_rows == [("completed", 1)]
