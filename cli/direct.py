"""The commands that work without the HTTP API, talking to Temporal with the SDK's environment
configuration: send a message (and follow its turn), the latest turn's manifest, a notebook
edit (through its workflow) and the migration's progress. The tenant is AGENT_MEMORY_TENANT:
without a key, nothing else says whose memory this is. Imports contract types only."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable
from typing import Any

from contract.names import TASK_QUEUE


def tenant() -> str:
    tenant_id = os.environ.get("AGENT_MEMORY_TENANT")
    if not tenant_id:
        raise SystemExit(
            "error: without the API (no AGENT_MEMORY_KEY, or the API is down) the command talks to Temporal "
            "and needs AGENT_MEMORY_TENANT to say whose memory it is"
        )
    return tenant_id


def _task_queue() -> str:
    return os.environ.get("TASK_QUEUE", TASK_QUEUE)


def run(work: Callable[[Any], Any]) -> Any:
    """Connect, do the work, and turn Temporal's refusals into one line and an exit status.
    The SDK is imported here: a command that the API answers never loads it."""
    from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
    from temporalio.service import RPCError, RPCStatusCode

    from clients.connect import connect, failure_reason

    async def main():
        client = await connect()
        try:
            return await work(client)
        except (WorkflowUpdateFailedError, WorkflowFailureError) as err:
            raise SystemExit(f"error: {failure_reason(err)}") from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise SystemExit(f"error: not found: {err.message}") from None
            raise SystemExit(f"error: Temporal refused: {err.message}") from None

    return asyncio.run(main())


def chat(
    agent: str, thread: str, text: str, *, request_id: str | None, project: str, delegated: bool, user: str | None = None
) -> dict:
    from clients.conversation import send_message
    from contract.conversation import UserMessage
    from memory.core.refs import ThreadRef

    ref = ThreadRef(tenant_id=tenant(), agent_id=agent, thread_id=thread)

    async def work(client):
        result = await send_message(
            client, ref, UserMessage(text=text, delegated=delegated, user_id=user), task_queue=_task_queue(),
            request_id=request_id, project=project,
        )
        return result.model_dump(mode="json")

    return run(work)


def chat_events(
    agent: str, thread: str, text: str, *, request_id: str | None, project: str, delegated: bool, show, user: str | None = None
) -> None:
    """Send and follow the turn, handing each (event, data) to show as it happens."""
    from clients.conversation import start_message
    from clients.turn_stream import follow_turn
    from contract.conversation import UserMessage
    from memory.core.refs import ThreadRef

    ref = ThreadRef(tenant_id=tenant(), agent_id=agent, thread_id=thread)
    rid = request_id or uuid.uuid4().hex

    async def work(client):
        handle = await start_message(
            client, ref, UserMessage(text=text, delegated=delegated, user_id=user), request_id=rid, task_queue=_task_queue(), project=project
        )
        async for name, data in follow_turn(client, ref, handle, rid):
            show(name, data)

    run(work)


def latest_turn(agent: str, thread: str, number: int) -> dict:
    from clients.conversation import turn_progress
    from memory.core.refs import ThreadRef

    ref = ThreadRef(tenant_id=tenant(), agent_id=agent, thread_id=thread)

    async def work(client):
        progress = await turn_progress(client, ref)
        if progress.turn != number or progress.result is None:
            raise SystemExit(
                f"error: the workflow holds only its latest finished turn (turn {progress.turn}, {progress.stage}); "
                f"older turns come from the turn log, through the API"
            )
        result = progress.result
        return {
            "turn": result.turn, "status": "completed", "manifest": [i.model_dump(mode="json") for i in result.manifest],
            "usage": result.usage.model_dump(mode="json"),
        }

    return run(work)


def notebook_edit(agent: str, content: str, reason: str) -> dict:
    from contract.ingestion import NotebookEdit, NotebookEditResult, notebook_edit_id
    from contract.names import NOTEBOOK_EDIT_WORKFLOW
    from memory.core.refs import AgentRef

    ref = AgentRef(tenant_id=tenant(), agent_id=agent)
    operator = os.environ.get("AGENT_MEMORY_OPERATOR") or f"cli:{os.environ.get('USER', 'unknown')}"
    edit = NotebookEdit(agent=ref, content=content, operator=operator, reason=reason, request_id=uuid.uuid4().hex)

    async def work(client):
        result = await client.execute_workflow(
            NOTEBOOK_EDIT_WORKFLOW, edit, id=notebook_edit_id(ref, edit.request_id), task_queue=_task_queue(),
            result_type=NotebookEditResult, static_summary=f"Notebook edit by {operator} for agent {agent}",
        )
        return result.model_dump(mode="json")

    return run(work)


def migration_status() -> dict:
    from contract.migration import MigrationProgress, migration_id
    from contract.names import PROGRESS_QUERY

    workflow_id = migration_id(tenant())

    async def work(client):
        progress = await client.get_workflow_handle(workflow_id).query(PROGRESS_QUERY, result_type=MigrationProgress)
        return progress.model_dump(mode="json")

    return run(work)


def change_switch(name: str, value: bool | int | str | None, *, tenant_id: str | None, operator: str, reason: str) -> dict:
    """Any switch, global ones included: the deployment's operator, with Temporal access."""
    from clients.switch_change import change_switch as change
    from contract.switches import SwitchChangeRequest

    request = SwitchChangeRequest(
        tenant_id=tenant_id, name=name, value=value, operator=operator, reason=reason, request_id=uuid.uuid4().hex
    )

    async def work(client):
        return (await change(client, request, task_queue=_task_queue())).model_dump(mode="json")

    return run(work)
