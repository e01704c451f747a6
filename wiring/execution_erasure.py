"""Finding and deleting the Temporal executions of a user or a tenant.

Every workflow id the runtime starts begins with its kind, the tenant and (for a thread's
workflows) the agent and thread, so a user's executions are those of their threads and a
tenant's those under its prefixes. Running ones are terminated first, then every run is
deleted, and the listing is repeated until the server no longer shows any (deletion and
visibility are asynchronous). The forget workflow's own executions (forget/...) are kept:
they hold ids and counts, never content.
"""

from __future__ import annotations

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from contract.names import TENANT_WORKFLOW_KINDS
from memory.core.refs import ThreadRef
from memory.forget.models import ForgetScope

_CLAUSES_PER_QUERY = 20


def visibility_queries(scope: ForgetScope, threads: list[ThreadRef]) -> list[str]:
    """List filters that together match every execution of the scope (ids are checked ids:
    no quote can occur in them)."""
    tenant = scope.tenant_id
    if scope.user_id is None:
        clauses = [f"WorkflowId STARTS_WITH '{kind}/{tenant}/'" for kind in TENANT_WORKFLOW_KINDS]
        clauses.append(f"WorkflowId = 'migration/{tenant}'")
    else:
        clauses = []
        for t in threads:
            path = f"{t.tenant_id}/{t.agent_id}/{t.thread_id}"
            clauses += [
                f"WorkflowId = 'conversation/{path}'",
                f"WorkflowId STARTS_WITH 'ingest/{path}/'",
                f"WorkflowId STARTS_WITH 'reflect/{path}/'",
            ]
    return [
        " OR ".join(clauses[i : i + _CLAUSES_PER_QUERY]) for i in range(0, len(clauses), _CLAUSES_PER_QUERY)
    ]


async def executions(client: Client, scope: ForgetScope, threads: list[ThreadRef]) -> dict[tuple[str, str], bool]:
    """(workflow id, run id) of every execution in the scope, with whether it is running."""
    found: dict[tuple[str, str], bool] = {}
    for query in visibility_queries(scope, threads):
        async for execution in client.list_workflows(query):
            found[(execution.id, execution.run_id)] = execution.status == WorkflowExecutionStatus.RUNNING
    return found


async def terminate_and_delete(client: Client, found: dict[tuple[str, str], bool], reason: str) -> None:
    for (workflow_id, run_id), running in sorted(found.items()):
        if running:
            try:
                await client.get_workflow_handle(workflow_id, run_id=run_id).terminate(reason=reason)
            except RPCError as err:
                # Closed since it was listed: deleting it is all that is left.
                if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                    raise
        try:
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                )
            )
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
