"""An MCP server over the HTTP API, for agents that are not ours (Claude Desktop or Code,
Cursor, any MCP client): search memory, read the notebook, remember a note (through the
notebook workflow, as every API edit), fetch a turn's manifest; the notebook and skills as
resources. It holds no store connection: each call is an API request with the tenant's key,
so the key's scope and tenant bound what an outside agent can do."""

from __future__ import annotations

from typing import Any

import httpx
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

INSTRUCTIONS = """Long-term memory of one agent. Search it before answering questions about
past work, people or decisions; read the notebook for the facts an operator holds authoritative;
remember a note only for a durable fact worth keeping (it becomes a new notebook version)."""


class MemoryApi:
    """The HTTP API as the MCP tools call it: a failed call becomes a ToolError with its code."""

    def __init__(self, base_url: str, key: str, agent_id: str, *, timeout: float = 120.0):
        self.agent_id = agent_id
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=timeout
        )

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, f"/v1/agents/{self.agent_id}{path}", **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                raise ToolError(f"{error['code']}: {error['message']}")
            except (ValueError, KeyError):
                raise ToolError(f"the memory API answered {response.status_code}") from None
        return response.json()

    async def close(self) -> None:
        await self._http.aclose()


def build_server(api: MemoryApi) -> MCPServer:
    server = MCPServer("agent-memory", instructions=INSTRUCTIONS)

    @server.tool()
    async def search_memory(query: str, layers: list[str] | None = None) -> dict[str, Any]:
        """Search the agent's memory: past exchanges (recall), graph facts, episodes and the notebook.
        Each hit names its layer and source, so an answer can say where it came from."""
        params: list[tuple[str, str]] = [("q", query)] + [("layers", layer) for layer in layers or []]
        return await api.call("GET", "/search", params=params)

    @server.tool()
    async def read_notebook() -> str:
        """The agent's notebook: facts an operator holds authoritative, newest version."""
        return (await api.call("GET", "/notebook"))["content"]

    @server.tool()
    async def remember_note(note: str) -> dict[str, Any]:
        """Add one durable fact to the notebook (a new version; earlier ones are kept)."""
        result = await api.call("POST", "/notebook/notes", json={"note": note})
        return {"version": result["version"], "graph": result["ingestion"]["outcome"]}

    @server.tool()
    async def get_turn_manifest(thread_id: str, turn: int) -> dict[str, Any]:
        """What the agent was shown in one turn of a thread, item by item with its layer and source."""
        return await api.call("GET", f"/threads/{thread_id}/turns/{turn}")

    @server.resource("memory://notebook", mime_type="text/markdown")
    async def notebook() -> str:
        """The agent's notebook."""
        return (await api.call("GET", "/notebook"))["content"]

    @server.resource("memory://skills/{task_type}", mime_type="text/markdown")
    async def skill(task_type: str) -> str:
        """The agent's skill for one task type."""
        return (await api.call("GET", f"/skills/{task_type}"))["content"]

    return server
