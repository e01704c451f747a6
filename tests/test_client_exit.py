"""A client script that succeeded exits 0, every time: nothing of the Temporal SDK is left
for the interpreter's shutdown to trip over."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest

from contract.migration import MigrationRequest, MigrationStart, migration_id
from workflows.migration import EmbeddingMigrationWorkflow

MIGRATE = Path(__file__).resolve().parent.parent / "clients" / "migrate.py"
RUNS = 30
AT_ONCE = 3  # a few at a time: the race is in each process's own exit, not between processes


# Thirty process start-ups: far past the default per-test limit on a loaded machine.
@pytest.mark.timeout(1200)
async def test_a_client_run_thirty_times_exits_cleanly_thirty_times(dev_env):
    tenant = f"t-{uuid.uuid4().hex[:10]}"
    # A migration on a task queue no worker polls stays running: each `pause` below is a
    # real round trip that succeeds, the cheapest a client script makes.
    handle = await dev_env.client.start_workflow(
        EmbeddingMigrationWorkflow.run,
        MigrationStart(request=MigrationRequest(tenant_id=tenant, to_model="offline/hashed-ngrams/384")),
        id=migration_id(tenant),
        task_queue=f"no-worker-{uuid.uuid4().hex[:6]}",
    )
    env = {**os.environ, "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host}
    slots = asyncio.Semaphore(AT_ONCE)

    async def pause_once() -> tuple[int, str, str]:
        async with slots:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(MIGRATE), "pause", "--tenant", tenant,
                env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            out, err = await process.communicate()
            return process.returncode, out.decode(), err.decode()

    try:
        runs = await asyncio.gather(*(pause_once() for _ in range(RUNS)))
    finally:
        await handle.terminate("test over")

    unclean = [(code, err[-400:]) for code, out, err in runs if code != 0 or "pause sent" not in out]
    assert unclean == [], f"{len(unclean)} of {RUNS} runs did not exit cleanly"
