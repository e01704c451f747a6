"""Save an agent definition through its workflow; as a script, `agent-memory agents`.

    uv run python clients/agents.py create support --file support.json
    uv run python clients/agents.py update support --file support.json --based-on 3 --note "shorter answers"
    uv run python clients/agents.py show|history support
    uv run python clients/agents.py list
    uv run python clients/agents.py diff support 2 3

The script is the CLI's `agents` command (over the HTTP API: AGENT_MEMORY_URL, an operator's
AGENT_MEMORY_KEY for saves); `save_definition` is what the API calls.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.client import Client  # noqa: E402

from contract.agents import (  # noqa: E402
    AgentSaved,
    SaveAgentDefinition,
    agent_definition_workflow_id,
)
from contract.names import AGENT_DEFINITION_WORKFLOW, TASK_QUEUE  # noqa: E402


async def save_definition(
    client: Client, request: SaveAgentDefinition, *, request_id: str | None = None, task_queue: str = TASK_QUEUE
) -> AgentSaved:
    """Save a version through its workflow. Raises WorkflowFailureError with the reason when
    the definition is refused; nothing is stored then. The same request id saves once."""
    request_id = request_id or uuid.uuid4().hex
    return await client.execute_workflow(
        AGENT_DEFINITION_WORKFLOW,
        request,
        id=agent_definition_workflow_id(request.agent, request_id),
        task_queue=task_queue,
        static_summary=f"Agent definition: {request.agent.agent_id} by {request.author}",
        result_type=AgentSaved,
    )


if __name__ == "__main__":
    from cli.agents import agents_app

    agents_app(prog_name="agents")
