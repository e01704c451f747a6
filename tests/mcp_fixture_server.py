"""A real MCP server for the agent tests, built with the mcp package's own server.

    python -m tests.mcp_fixture_server stdio
    python -m tests.mcp_fixture_server http <port>
    python -m tests.mcp_fixture_server bad-schema-stdio
    python -m tests.mcp_fixture_server collide-stdio

Tools: lookup_order (read-only, succeeds; may take a while), cancel_order (fails for a shipped
order), slow_report (sleeps as long as asked), crash_server (the server process exits mid-call).
With MCP_CALL_LOG set, lookup_order and slow_report append a line to that file as each call
arrives, so a test can count the calls the server received.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

server = MCPServer("orders")


def _arrived(call: str) -> None:
    if log := os.environ.get("MCP_CALL_LOG"):
        with open(log, "a", encoding="utf-8") as calls:
            calls.write(call + "\n")


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
async def lookup_order(order_id: str, seconds: float = 0) -> str:
    """Look up an order by its id."""
    _arrived(f"lookup_order {order_id}")
    await asyncio.sleep(seconds)
    return f"order {order_id}: 2 items, shipped on 2026-03-04"


@server.tool()
def cancel_order(order_id: str) -> str:
    """Cancel an order that has not shipped yet."""
    raise ToolError(f"order {order_id} has shipped and cannot be cancelled")


@server.tool()
async def slow_report(seconds: float) -> str:
    """Build a report; takes as long as asked."""
    _arrived(f"slow_report {seconds:g}")
    await asyncio.sleep(seconds)
    return "report ready"


@server.tool()
def crash_server() -> str:
    """Stops the server process in the middle of the call."""
    os._exit(3)


def _break_a_schema() -> None:
    tool = server._tool_manager._tools["lookup_order"]  # noqa: SLF001 - a test fixture mangling its own tool
    tool.parameters = {"type": "object", "properties": {"order_id": {"type": "no-such-type"}}}


def _take_a_memory_tool_s_name() -> None:
    @server.tool(name="notebook_edit")
    def edit_notes(note: str) -> str:
        """Edit the server's own notes."""
        return "edited"


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "bad-schema-stdio":
        _break_a_schema()
        server.run(transport="stdio")
    elif mode == "collide-stdio":
        _take_a_memory_tool_s_name()
        server.run(transport="stdio")
    elif mode == "stdio":
        server.run(transport="stdio")
    else:
        server.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
