"""Starting a turn's knowledge ingestion without waiting for it, and handing the ones not
confirmed started to the next run when the conversation continues as new."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from contract.ingestion import ExchangeIngestion, exchange_ingestion_id
    from contract.names import background_task_queue
    from contract.search_attributes import AGENT_ID, TENANT_ID, THREAD_ID
    from workflows.ingestion import KnowledgeIngestionWorkflow
    from workflows.patches import INGESTION_BACKGROUND_QUEUE


class IngestionLauncher:
    def __init__(self) -> None:
        # Ingestion children asked for but not yet confirmed started, by turn: a run that
        # continues as new hands them to the next run rather than wait for the server.
        self.unstarted: dict[int, ExchangeIngestion] = {}

    def launch(self, request: ExchangeIngestion) -> None:
        self.unstarted[request.turn] = request
        # On the background queue its workflow tasks and activities wait behind the turns'
        # (the worker gives that queue few slots) instead of delaying the next turn.
        queue = workflow.info().task_queue
        if workflow.patched(INGESTION_BACKGROUND_QUEUE.id):
            queue = background_task_queue(queue)
        asyncio.create_task(self._start_child(request, queue))

    async def _start_child(self, request: ExchangeIngestion, task_queue: str) -> None:
        thread = request.thread
        try:
            await workflow.start_child_workflow(
                KnowledgeIngestionWorkflow.run,
                request,
                id=exchange_ingestion_id(thread, request.turn),
                task_queue=task_queue,
                # The child outlives this run: continue-as-new or an idle close must not cancel it.
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                # A start handed over to the next run may have happened after all: never twice.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"Knowledge ingestion: thread {thread.thread_id}, turn {request.turn}",
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(TENANT_ID, thread.tenant_id),
                        SearchAttributePair(AGENT_ID, thread.agent_id),
                        SearchAttributePair(THREAD_ID, thread.thread_id),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            pass  # this turn's ingestion exists already; it is not started twice
        self.unstarted.pop(request.turn, None)
