"""The floor: a workflow of the turn's exact shape whose activities do nothing.

Per message (an update, sent with start like a real turn): a local activity for the user
message, then two at once for the agent version and the reads; an activity for the model
call (the one step that goes through the server, so a crash never repeats a billed call); a
local activity for the commit; then a child workflow started without waiting (the ingestion) on the background
queue, with the shape of a short exchange's ingestion: its gates and its episode as two local
activities in one workflow task (child="remote" gives it the shape from before the
ingestion-local-steps patch, two activities through the server; child="none" starts none;
child="started" has the commit step start it as a workflow of its own, not a child: a design
measured and not adopted, see the README's "Latency").
What this costs is what Temporal and the worker's SDK cost per turn on this machine, before
any memory work: the product's turn cannot be faster than this."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from contract.names import background_task_queue
from memory.core.config import Settings
from wiring.plugin import workflow_runner
from wiring.workers import MemoryWorkers, background_slots

FLOOR_UPDATE = "floor_message"
_STEP = timedelta(seconds=30)


@activity.defn(name="floor_noop")
async def noop(step: str) -> str:
    return step


CHILD_SHAPES = ("none", "local", "remote", "started")


@workflow.defn(name="FloorChildWorkflow")
class FloorChild:
    @workflow.run
    async def run(self, remote: bool) -> None:
        for step in ("gate", "episode"):
            if remote:
                await workflow.execute_activity(noop, step, start_to_close_timeout=_STEP)
            else:
                await workflow.execute_local_activity(noop, step, start_to_close_timeout=_STEP)


@activity.defn(name="floor_commit_and_start")
async def commit_and_start(workflow_id: str) -> str:
    """The commit step that starts the ingestion itself, a workflow of its own: the conversation
    then has no child events and no workflow task when the ingestion ends, but the start is one
    more server call before the reply."""
    try:
        await activity.client().start_workflow(
            FloorChild.run, False, id=workflow_id, task_queue=background_task_queue(activity.info().task_queue)
        )
    except WorkflowAlreadyStartedError:
        pass
    return "commit"


@workflow.defn(name="FloorWorkflow")
class FloorWorkflow:
    @workflow.init
    def __init__(self, child: str = "local") -> None:
        self._turn = 0
        self._child = child

    @workflow.run
    async def run(self, child: str = "local") -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.update(name=FLOOR_UPDATE)
    async def message(self, text: str) -> int:
        self._turn += 1
        await workflow.execute_local_activity(noop, "user", start_to_close_timeout=_STEP)
        await asyncio.gather(
            *(workflow.execute_local_activity(noop, step, start_to_close_timeout=_STEP) for step in ("agent", "read"))
        )
        await workflow.execute_activity(noop, "model", start_to_close_timeout=_STEP)
        if self._child == "started":
            await workflow.execute_local_activity(
                commit_and_start, f"{workflow.info().workflow_id}/ingest/{self._turn}", start_to_close_timeout=_STEP
            )
            return self._turn
        await workflow.execute_local_activity(noop, "commit", start_to_close_timeout=_STEP)
        if self._child == "none":
            return self._turn
        asyncio.create_task(
            workflow.start_child_workflow(
                FloorChild.run,
                self._child == "remote",
                id=f"{workflow.info().workflow_id}/ingest/{self._turn}",
                task_queue=background_task_queue(workflow.info().task_queue),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        )
        return self._turn


def floor_worker(client: Client, task_queue: str, sandboxed: bool = False) -> MemoryWorkers:
    """On the product's workflow runner (wiring/plugin.py) and, like the product's, with the
    child on a background queue of few slots: the floor is the product's floor."""

    def worker(queue: str, **slots) -> Worker:
        return Worker(
            client,
            task_queue=queue,
            workflows=[FloorWorkflow, FloorChild],
            activities=[noop, commit_and_start],
            workflow_runner=workflow_runner(sandboxed),
            **slots,
        )

    background = worker(background_task_queue(task_queue), **background_slots(Settings()))
    return MemoryWorkers(worker(task_queue), background)


async def send_floor(client: Client, task_queue: str, thread_id: str, text: str, *, child: str = "local") -> int:
    start = WithStartWorkflowOperation(
        FloorWorkflow.run,
        child,
        id=f"floor/{thread_id}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await client.execute_update_with_start_workflow(FLOOR_UPDATE, text, start_workflow_operation=start, result_type=int)


async def workflow_done(client: Client, workflow_id: str) -> None:
    """Until the workflow has closed; one not started yet (a child starts after the reply) is waited for."""
    while True:
        try:
            await client.get_workflow_handle(workflow_id).result()
            return
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.005)


async def floor_child_done(client: Client, thread_id: str, turn: int) -> None:
    await workflow_done(client, f"floor/{thread_id}/ingest/{turn}")
