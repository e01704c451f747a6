"""A worker names its build by the project's source: operators see which code polls a task
queue, and a worker starts without hashing every installed module first."""

from __future__ import annotations

import asyncio
import time
import uuid

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from tests.conftest import running_worker
from wiring.build_id import worker_build_id


async def _poller_build_ids(client, task_queue: str) -> set[str]:
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    for _ in range(100):
        pollers = (await client.workflow_service.describe_task_queue(request)).pollers
        if pollers:
            return {p.worker_version_capabilities.build_id for p in pollers}
        await asyncio.sleep(0.05)
    return set()


async def test_a_worker_polls_under_the_build_id_of_its_source(dev_env, runtime):
    started = time.perf_counter()
    async with running_worker(dev_env.client, runtime) as task_queue:
        up_after = time.perf_counter() - started
        assert await _poller_build_ids(dev_env.client, task_queue) == {worker_build_id()}
    assert worker_build_id().startswith("agent-memory-")
    # Hashing every loaded module's bytecode took 20-40 s here; the source digest is instant.
    assert up_after < 10, f"worker took {up_after:.1f} s to start"


def test_an_operator_can_name_the_build(monkeypatch):
    worker_build_id.cache_clear()
    release = f"release-{uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("WORKER_BUILD_ID", release)
    try:
        assert worker_build_id() == release
    finally:
        worker_build_id.cache_clear()
