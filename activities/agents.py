"""Agent definitions and MCP tools as activities: fetch and check a definition's tools, save a
version, call one MCP tool. Each MCP tool call runs as an activity named after its tool
(mcp/<server>/<tool>), so the Temporal UI says which tool ran."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import activity
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from activities.agent_models import FetchToolsInput, McpCallInput, SaveDefinitionInput
from activities.heartbeat import heartbeats
from activities.learning_models import ToolOutput
from contract.errors import INVALID_INPUT
from memory.agents import mcp_client
from memory.agents.models import (
    MCP_SERVER_UNREACHABLE,
    MCP_TOOL_INVALID,
    VERSION_CONFLICT,
    AgentDefinitionInvalid,
    AgentVersion,
    AnsweringAgent,
    McpTool,
    check_tool_names,
)
from memory.agents.store import VersionConflict
from memory.agents.tools import agent_tools
from memory.core.refs import AgentRef
from memory.runtime import MemoryRuntime
from memory.tools.models import ToolStatus

MCP_ACTIVITY_PREFIX = "mcp/"


def mcp_activity_name(server: str, tool: str) -> str:
    return f"{MCP_ACTIVITY_PREFIX}{server}/{tool}"


def _refused(message: str, kind: str = INVALID_INPUT) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


class AgentActivities:
    def __init__(self, runtime: MemoryRuntime):
        self._rt = runtime

    @activity.defn(name="agents_fetch_tools")
    @heartbeats
    async def fetch_tools(self, request: FetchToolsInput) -> list[McpTool]:
        """Every tool of every MCP server the definition names, checked; refused with the reason
        when a server does not answer or offers a tool the runtime cannot offer a model."""
        tools: list[McpTool] = []
        for server in request.spec.mcp_servers:
            try:
                tools += await mcp_client.list_tools(server)
            except mcp_client.McpServerUnavailable as err:
                # Retryable: the workflow's policy gives a server one more try before refusing.
                raise ApplicationError(f"not saved: {err}", type=MCP_SERVER_UNREACHABLE) from None
            except mcp_client.McpToolInvalid as err:
                raise _refused(f"not saved: {err}", MCP_TOOL_INVALID) from None
        try:
            check_tool_names(request.spec, tools)
        except AgentDefinitionInvalid as err:
            raise _refused(f"not saved: {err}", err.code) from None
        return tools

    @activity.defn(name="agents_answering_version")
    async def answering(self, agent: AgentRef) -> AnsweringAgent | None:
        """The agent's current version, as a turn answers with it (its tools, reads and limits);
        None for an agent never defined, which keeps the runtime's defaults."""
        version = await self._rt.agents.current(agent)
        return agent_tools(version) if version else None

    @activity.defn(name="agents_save_version")
    async def save(self, request: SaveDefinitionInput) -> AgentVersion:
        try:
            return await self._rt.agents.save(
                request.agent,
                request.spec,
                request.mcp_tools,
                author=request.author,
                note=request.note,
                idempotency_key=request.idempotency_key,
                based_on=request.based_on,
            )
        except VersionConflict as err:
            raise _refused(f"not saved: {err}", VERSION_CONFLICT) from None

    @activity.defn(dynamic=True)
    @heartbeats
    async def mcp_tool(self, args: Sequence[RawValue]) -> ToolOutput:
        name = activity.info().activity_type
        if not name.startswith(MCP_ACTIVITY_PREFIX):
            raise ApplicationError(f"this worker has no activity {name!r}", type="NotFound", non_retryable=True)
        request = activity.payload_converter().from_payload(args[0].payload, McpCallInput)
        thread = request.session.thread
        agent = await self._rt.agents.get(thread.agent, request.agent_version)
        tool = next((t for t in agent.mcp_tools if t.name == request.tool), None) if agent else None
        if agent is None or tool is None:
            return await self._log(request, ToolOutput(
                content=f"agent {thread.agent_id} v{request.agent_version} has no MCP tool {request.tool!r}",
                status=ToolStatus.REJECTED,
            ))
        if problem := mcp_client.argument_problem(tool.name, tool.input_schema, request.arguments):
            # Nothing reaches the server: the model reads why and may call again.
            return await self._log(request, ToolOutput(content=f"rejected: {problem}", status=ToolStatus.REJECTED))
        server = next(s for s in agent.spec.mcp_servers if s.name == tool.server)
        try:
            result = await mcp_client.call_tool(server, tool.name, request.arguments)
        except mcp_client.McpServerUnavailable as err:
            if tool.retry_safe:
                raise  # a read-only tool is retried by the activity's policy
            return await self._log(request, ToolOutput(content=f"failed: {err}", status=ToolStatus.FAILED))
        status = ToolStatus.FAILED if result.is_error else ToolStatus.OK
        return await self._log(request, ToolOutput(content=result.text, status=status))

    async def _log(self, request: McpCallInput, output: ToolOutput) -> ToolOutput:
        await self._rt.tool_log.record(
            request.session.thread,
            turn=request.turn,
            call_id=request.call_id,
            tool=request.tool,
            arguments=request.arguments,
            status=output.status,
            output=output.content,
        )
        return output


def agent_activities(runtime: MemoryRuntime) -> list:
    agents = AgentActivities(runtime)
    return [agents.fetch_tools, agents.save, agents.answering, agents.mcp_tool]
