"""An agent's MCP tools, against a real MCP server (the mcp package's own) over stdio and
streamable HTTP: a call that succeeds, one the tool fails, arguments refused before anything
is sent, one cut off by its timeout, and a server that goes away mid-turn; and definitions
refused whole when a server does not answer or offers a tool that cannot be offered."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowFailureError

from clients.agents import save_definition
from clients.conversation import send_message
from contract.agents import SaveAgentDefinition
from contract.conversation import UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.agents.models import AgentSpec, McpServer
from memory.core.schema import agent_definitions, tool_calls
from memory.llm.base import ModelRequest, ModelResponse, ToolCall
from memory.runtime import MemoryRuntime
from tests.conftest import finished, running_worker, time_skipping_server
from tests.support import RecordingModel

# A server of this module's own: a call cut off by its timeout, or to a server that died,
# leaves work the shared server's clock would otherwise wait for.
time_skipping_env = time_skipping_server("module")

ROOT = Path(__file__).resolve().parents[2]
# Each stdio call starts the server afresh (a few seconds on a busy machine), and one call is
# left to hit its timeout.
pytestmark = pytest.mark.timeout(400)
_CALL = re.compile(r"^call: (?P<name>\S+) (?P<args>\{.*\})$", re.M)


class CallsNamedTools(RecordingModel):
    """Calls every `call: <tool> <json arguments>` line of the message at once, then reports."""

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if request.purpose == "agent_turn" and request.tools and not request.tool_calls:
            calls = [
                ToolCall(id=f"c{i}", name=m["name"], arguments=json.loads(m["args"]))
                for i, m in enumerate(_CALL.finditer(request.messages[-1].content), 1)
            ]
            if calls:
                return ModelResponse(text="", tool_calls=calls, provider=self.provider, model=self.model)
        if request.purpose == "agent_turn" and request.tool_results:
            text = "\n".join(f"{r.name}: {'error' if r.is_error else 'ok'}: {r.content}" for r in request.tool_results)
            return ModelResponse(text=text, provider=self.provider, model=self.model)
        return await super(RecordingModel, self).generate(request)


def stdio_server(mode: str = "stdio", timeout: float = 20.0) -> McpServer:
    # PYTHONPATH is passed on when the worker has one, so the server imports what the worker does.
    return McpServer(
        name="orders", transport="stdio", command=[sys.executable, "-m", "tests.mcp_fixture_server", mode],
        cwd=str(ROOT), env_from={"PYTHONPATH": "PYTHONPATH"}, timeout_seconds=timeout,
    )


@pytest.fixture
def http_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "tests.mcp_fixture_server", "http", str(port)], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    yield McpServer(name="orders", transport="http", url=f"http://127.0.0.1:{port}/mcp", timeout_seconds=10)
    process.kill()
    process.wait()


async def run_turn(client, settings, thread, server: McpServer, message: str):
    model = CallsNamedTools()
    runtime = MemoryRuntime.create(settings, llm=model)
    try:
        async with running_worker(client, runtime) as tq:
            request = SaveAgentDefinition(
                agent=thread.agent, author="alice",
                spec=AgentSpec(instructions="You look after Acme's orders.", mcp_servers=[server]),
            )
            saved = await save_definition(client, request, task_queue=tq)
            result = await send_message(client, thread, UserMessage(text=message), task_queue=tq)
            await finished(client, exchange_ingestion_id(thread, result.turn))
        async with runtime.engine.connect() as conn:
            rows = (await conn.execute(
                select(tool_calls.c.call_id, tool_calls.c.tool, tool_calls.c.status, tool_calls.c.output)
                .where(tool_calls.c.tenant_id == thread.tenant_id).order_by(tool_calls.c.call_id)
            )).all()
    finally:
        await runtime.close()
    return saved, result, model, rows


async def test_mcp_tools_over_stdio_succeed_fail_are_refused_and_time_out(time_skipping_env, settings, thread):
    message = "\n".join([
        'call: lookup_order {"order_id": "A1"}',
        'call: cancel_order {"order_id": "A1"}',
        'call: lookup_order {"order_id": 5}',
        'call: slow_report {"seconds": 120}',
        'call: crash_server {}',
    ])
    saved, result, model, rows = await run_turn(time_skipping_env.client, settings, thread, stdio_server(), message)

    assert saved.tools[-4:] == ["lookup_order", "cancel_order", "slow_report", "crash_server"]
    offered = [t.name for t in model.requests[-2].tools]
    assert offered[-4:] == saved.tools[-4:] and "lookup_order" in offered
    lines = result.reply.splitlines()
    assert lines[0] == "lookup_order: ok: order A1: 2 items, shipped on 2026-03-04"
    assert lines[1].startswith("cancel_order: error: ") and "order A1 has shipped and cannot be cancelled" in lines[1]
    assert lines[2].startswith("lookup_order: error: rejected: lookup_order: order_id: 5 is not of type 'string'")
    assert lines[3] == "slow_report: error: failed: cut off after 20 s"
    assert lines[4].startswith(
        "crash_server: error: failed: MCP server 'orders' went away during crash_server, before it answered: "
    )
    assert [(call_id, tool, status) for call_id, tool, status, _ in rows] == [
        ("c1", "lookup_order", "ok"),
        ("c2", "cancel_order", "failed"),
        ("c3", "lookup_order", "rejected"),
        ("c4", "slow_report", "timed_out"),
        ("c5", "crash_server", "failed"),
    ]
    assert result.tools_used == ["lookup_order", "cancel_order", "lookup_order", "slow_report", "crash_server"]


async def test_an_mcp_server_over_http_that_goes_away_mid_turn_fails_the_calls_not_the_turn(
    time_skipping_env, settings, thread, http_server
):
    message = "\n".join([
        'call: lookup_order {"order_id": "B7"}',
        'call: crash_server {}',
        'call: cancel_order {"order_id": "B7"}',
    ])
    _, result, _, rows = await run_turn(time_skipping_env.client, settings, thread, http_server, message)

    lines = result.reply.splitlines()
    assert lines[0] == "lookup_order: ok: order B7: 2 items, shipped on 2026-03-04"
    assert lines[1].startswith(
        "crash_server: error: failed: MCP server 'orders' went away during crash_server, before it answered: "
    )
    assert lines[2].startswith(
        "cancel_order: error: failed: MCP server 'orders' is not reachable, so cancel_order was not called: "
    )
    assert [(tool, status) for _, tool, status, _ in rows] == [
        ("lookup_order", "ok"), ("crash_server", "failed"), ("cancel_order", "failed"),
    ]


@pytest.mark.parametrize(
    "server, reason",
    [
        (McpServer(name="orders", transport="http", url="http://127.0.0.1:9/mcp", timeout_seconds=5),
         "MCP server 'orders' is not reachable"),
        (stdio_server("bad-schema-stdio"), "tool 'lookup_order' has an invalid input schema"),
        (stdio_server("collide-stdio"), "tool 'notebook_edit' has the name of a memory tool"),
    ],
    ids=["unreachable", "invalid-schema", "memory-tool-name"],
)
async def test_a_definition_whose_mcp_tools_cannot_be_offered_is_refused_and_nothing_saved(
    time_skipping_env, runtime, thread, server, reason
):
    client = time_skipping_env.client
    request = SaveAgentDefinition(
        agent=thread.agent, author="alice", spec=AgentSpec(instructions="You look after orders.", mcp_servers=[server])
    )
    async with running_worker(client, runtime) as tq:
        with pytest.raises(WorkflowFailureError) as refused:
            await save_definition(client, request, task_queue=tq)
    assert reason in str(refused.value.cause.cause)
    async with runtime.engine.connect() as conn:
        count = (await conn.execute(
            select(func.count()).select_from(agent_definitions).where(agent_definitions.c.tenant_id == thread.tenant_id)
        )).scalar()
    assert count == 0
