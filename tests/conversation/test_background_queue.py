"""A turn's background work (its knowledge ingestion) runs on the worker's background queue,
whose few slots keep it from delaying the next turn."""

from __future__ import annotations

from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.ingestion import exchange_ingestion_id
from contract.names import background_task_queue
from tests.conftest import finished, running_worker


async def test_a_turns_ingestion_runs_on_the_background_queue(time_skipping_env, runtime, thread):
    client = time_skipping_env.client
    async with running_worker(client, runtime) as task_queue:
        result = await send_message(client, thread, UserMessage(text="Where do invoices go?"), task_queue=task_queue)
        ingestion = exchange_ingestion_id(thread, result.turn)
        await finished(client, ingestion)
        conversation = await client.get_workflow_handle(result.workflow_id).describe()
        child = await client.get_workflow_handle(ingestion).describe()
    assert conversation.task_queue == task_queue
    assert child.task_queue == background_task_queue(task_queue) == f"{task_queue}-background"
    assert child.status is not None and child.status.name == "COMPLETED"
