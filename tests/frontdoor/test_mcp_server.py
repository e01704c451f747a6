"""An MCP client (the mcp package's own) reaches an agent's memory through the MCP server,
which calls the HTTP API with a tenant's key: it lists the tools, remembers a note, finds it."""

from __future__ import annotations

import asyncio
import uuid

import uvicorn
from mcp import Client

from mcp_server.server import MemoryApi, build_server
from tests.api_server import free_port, serving
from tests.conftest import running_worker


async def test_an_mcp_client_remembers_a_note_and_finds_it(time_skipping_env, runtime):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq, serving(client, runtime, tq) as (url, keys):
        issued = await keys.create(f"t-{uuid.uuid4().hex[:10]}", "write", name="desktop agent", created_by="test")
        api = MemoryApi(url, issued.secret, "support")
        port = free_port()
        mcp_http = uvicorn.Server(
            uvicorn.Config(build_server(api).streamable_http_app(), host="127.0.0.1", port=port, log_level="warning")
        )
        task = asyncio.create_task(mcp_http.serve())
        while not mcp_http.started:
            await asyncio.sleep(0.01)
        try:
            async with Client(f"http://127.0.0.1:{port}/mcp") as mcp:
                tools = {tool.name for tool in (await mcp.list_tools()).tools}
                remembered = await mcp.call_tool("remember_note", {"note": "Dana prefers invoices by post."})
                found = await mcp.call_tool("search_memory", {"query": "How does Dana want invoices?", "layers": ["notebook"]})
                notebook = await mcp.read_resource("memory://notebook")
        finally:
            mcp_http.should_exit = True
            await task
            await api.close()

    assert tools == {"search_memory", "read_notebook", "remember_note", "get_turn_manifest"}
    assert not remembered.is_error
    assert "Dana prefers invoices by post." in found.content[0].text
    assert "Dana prefers invoices by post." in notebook.contents[0].text
