"""The worker process is killed (SIGKILL) in the middle of a migration and started again:
the migration finishes with exactly one new vector per row and one switch of the fence."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from temporalio.api.enums.v1 import EventType

from contract.migration import MigrationRequest, MigrationStart, migration_id
from tests.faults.killpoint import worker_settings
from tests.recall.test_migration_workflow import NEW, seed, vectors_per_item
from workflows.migration import EmbeddingMigrationWorkflow

ROOT = Path(__file__).resolve().parents[2]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


async def test_a_killed_worker_resumes_the_migration_without_gaps_or_duplicates(
    dev_env, runtime, thread, database_url, graph_url, redis_url, tmp_path
):
    await seed(runtime, thread, 60)
    env = {
        **os.environ,
        **worker_settings(
            dev_env.client.service_client.config.target_host, database_url, graph_url, redis_url, tmp_path / "scratch"
        ),
        # Slow enough that the kill lands mid-migration.
        "MIGRATION_REQUESTS_PER_SECOND": "4",
    }
    task_queue = env["TASK_QUEUE"]
    env.pop("ANTHROPIC_API_KEY", None)
    log = tmp_path / "worker.log"
    client = dev_env.client
    first = start_worker(env, log)
    second = None
    try:
        handle = await client.start_workflow(
            EmbeddingMigrationWorkflow.run,
            MigrationStart(request=MigrationRequest(tenant_id=thread.tenant_id, to_model=NEW, batch_size=5)),
            id=migration_id(thread.tenant_id),
            task_queue=task_queue,
        )
        async with asyncio.timeout(60):
            while (await handle.query(EmbeddingMigrationWorkflow.progress)).rows_done < 15:
                await asyncio.sleep(0.1)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = start_worker(env, log)
        async with asyncio.timeout(120):
            result = await handle.result()
        history = await handle.fetch_history()
    finally:
        for process in (first, second):
            if process and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)

    assert result.outcome == "switched", log.read_text()[-2000:]
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == NEW
    assert await vectors_per_item(runtime, thread.tenant_id, NEW) == [1] * 60
    switches = [
        e for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "migration_switch"
    ]
    assert len(switches) == 1
