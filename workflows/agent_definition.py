"""Saving an agent definition: fetch and check its MCP tools, then store a new version.

Nothing is stored unless every server answered and every tool can be offered to a model.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

from contract.names import AGENT_DEFINITION_WORKFLOW

with workflow.unsafe.imports_passed_through():
    from activities.agent_models import FetchToolsInput, SaveDefinitionInput
    from activities.agents import AgentActivities
    from contract.agents import AgentSaved, SaveAgentDefinition
    from workflows.options import MEMORY_IO


@workflow.defn(name=AGENT_DEFINITION_WORKFLOW)
class AgentDefinitionWorkflow:
    @workflow.run
    async def run(self, request: SaveAgentDefinition) -> AgentSaved:
        servers = len(request.spec.mcp_servers)
        tools = await workflow.execute_activity_method(
            AgentActivities.fetch_tools,
            FetchToolsInput(agent=request.agent, spec=request.spec),
            summary=f"agents: list and check the tools of {servers} MCP server(s)",
            start_to_close_timeout=timedelta(seconds=30 + 60 * servers),
            heartbeat_timeout=timedelta(seconds=20),
            # A server that does not answer refuses the save with the reason; the operator
            # saves again once it is up. One more try covers a blip.
            retry_policy=RetryPolicy(maximum_attempts=2, initial_interval=timedelta(seconds=1)),
        )
        saved = await workflow.execute_activity_method(
            AgentActivities.save,
            SaveDefinitionInput(
                agent=request.agent,
                spec=request.spec,
                mcp_tools=tools,
                author=request.author,
                note=request.note,
                based_on=0 if request.create else request.based_on,
                idempotency_key=workflow.info().workflow_id,
            ),
            summary=f"agents: save a new version of {request.agent.agent_id} by {request.author}",
            **MEMORY_IO,
        )
        workflow.set_current_details(f"Saved {request.agent.agent_id} v{saved.version}.")
        return AgentSaved(agent_id=saved.agent_id, version=saved.version, tools=saved.tool_names())
