"""clients/migrate.py: start, watch, refuse a second one, roll back, clean up."""

from __future__ import annotations

import asyncio

from clients import migrate
from contract.migration import FenceChange, migration_id
from tests.conftest import running_worker
from tests.recall.test_migration_workflow import (
    NEW,
    OLD,
    seed,
    start_migration,
    vectors_per_item,
)
from workflows.migration import EmbeddingMigrationWorkflow


async def test_an_operator_migrates_rolls_back_and_cleans_up(dev_env, runtime, thread, monkeypatch, capsys):
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    await seed(runtime, thread, 12)
    tenant = ["--tenant", thread.tenant_id]
    async with running_worker(dev_env.client, runtime) as tq:
        queue = ["--task-queue", tq]
        assert await migrate.main(["start", *tenant, "--to", NEW, "--operator", "alice", *queue]) == 0
        await dev_env.client.get_workflow_handle_for(EmbeddingMigrationWorkflow.run, migration_id(thread.tenant_id)).result()
        capsys.readouterr()
        assert await migrate.main(["status", *tenant]) == 0
        status = capsys.readouterr().out
        assert await migrate.main(["rollback", *tenant, "--to", OLD, *queue]) == 0
        rolled_back = await runtime.tenants.current_embedding_model(thread.tenant_id)
        assert await migrate.main(["cleanup", *tenant, "--model", NEW, *queue]) == 0
        cleaned = capsys.readouterr().out
        assert await migrate.main(["cleanup", *tenant, "--model", OLD, *queue]) == 1
        refused = capsys.readouterr().err

    query = f'WorkflowId = "{migration_id(thread.tenant_id)}" AND MigrationState = "switched"'
    for _ in range(100):  # visibility catches up asynchronously
        if [w async for w in dev_env.client.list_workflows(query)]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the migration is not findable by MigrationState")
    assert status.startswith("switched: switched") and "12 rows" in status
    assert rolled_back == OLD
    assert "deleted 12 offline/hashed-ngrams/384 vectors" in cleaned
    assert "current" in refused
    assert await vectors_per_item(runtime, thread.tenant_id, NEW) == [0] * 12


async def test_a_second_migration_is_refused_pointing_at_the_running_one(time_skipping_env, runtime, thread, capsys):
    await seed(runtime, thread, 3)
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        # Paused from its start, so it is still running when the second request comes.
        handle = await start_migration(client, thread.tenant_id, tq, paused=True)
        assert await migrate.start(client, thread.tenant_id, NEW, "bob", tq) == 1
        await handle.signal(EmbeddingMigrationWorkflow.cancel)
        # Finished before the worker stops: a workflow task left behind would stall the clock.
        assert (await handle.result()).outcome == "cancelled"
    assert f"already has a migration running: workflow {migration_id(thread.tenant_id)}" in capsys.readouterr().err


async def test_a_rollback_or_cleanup_while_a_migration_runs_is_refused(time_skipping_env, runtime, thread, capsys):
    await seed(runtime, thread, 3)
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        handle = await start_migration(client, thread.tenant_id, tq, paused=True)
        fence = FenceChange(action="rollback", tenant_id=thread.tenant_id, model=OLD)
        assert await migrate.change_fence(client, fence, tq) == 1
        refused_rollback = capsys.readouterr().err
        assert await migrate.change_fence(client, fence.model_copy(update={"action": "cleanup", "model": NEW}), tq) == 1
        await handle.signal(EmbeddingMigrationWorkflow.cancel)
        assert (await handle.result()).outcome == "cancelled"
    assert f"has a migration running: workflow {migration_id(thread.tenant_id)}" in refused_rollback
    assert "before a rollback" in refused_rollback
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == OLD


async def test_bad_model_ids_are_refused_before_anything_starts(capsys):
    assert await migrate.main(["start", "--tenant", "acme", "--to", "not-a-model"]) == 2
    assert "error:" in capsys.readouterr().err
