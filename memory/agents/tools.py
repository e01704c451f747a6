"""An agent version's tools as the model sees them, and as the workflow routes them."""

from __future__ import annotations

from memory.agents.models import AgentVersion, AnsweringAgent, McpRoute
from memory.llm.base import ToolSpec
from memory.tools.registry import TOOLS_BY_NAME


def agent_tool_specs(agent: AgentVersion) -> list[ToolSpec]:
    """Built-in tools first, in the runtime's order, then MCP tools in the order the servers
    listed them when the version was saved: the same list, byte for byte, every turn."""
    return [TOOLS_BY_NAME[name] for name in agent.spec.builtin_tools] + [tool.spec() for tool in agent.mcp_tools]


def agent_tools(agent: AgentVersion) -> AnsweringAgent:
    timeouts = {server.name: server.timeout_seconds for server in agent.spec.mcp_servers}
    return AnsweringAgent(
        agent_id=agent.agent_id,
        version=agent.version,
        reads=list(agent.spec.reads),
        limits=dict(agent.spec.limits),
        builtin=list(agent.spec.builtin_tools),
        mcp={
            tool.name: McpRoute(server=tool.server, timeout_seconds=timeouts[tool.server], retry_safe=tool.retry_safe)
            for tool in agent.mcp_tools
        },
    )
