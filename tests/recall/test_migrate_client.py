"""clients/migrate.py: start, watch, refuse a second one, roll back, clean up."""

from __future__ import annotations

import asyncio

from clients import migrate
from clients.conversation import send_message
from contract.conversation import UserMessage
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
    assert status.startswith("switched ") and "12 rows" in status
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


async def test_a_rollback_after_real_use_embeds_what_was_written_since_and_recalls_it(
    dev_env, runtime, thread, monkeypatch, capsys
):
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    await seed(runtime, thread, 3)
    tenant = ["--tenant", thread.tenant_id]
    after_switch = thread.model_copy(update={"thread_id": "after-switch"})
    asker = thread.model_copy(update={"thread_id": "asker"})
    migration = dev_env.client.get_workflow_handle_for(EmbeddingMigrationWorkflow.run, migration_id(thread.tenant_id))
    async with running_worker(dev_env.client, runtime) as tq:
        queue = ["--task-queue", tq]
        assert await migrate.main(["start", *tenant, "--to", NEW, *queue]) == 0
        await migration.result()
        # Real use of the new model: this turn's exchange gets a NEW vector only.
        await send_message(
            dev_env.client,
            after_switch,
            UserMessage(text="The Lisbon depot moved its loading dock to gate seven."),
            task_queue=tq,
        )
        before = await vectors_per_item(runtime, thread.tenant_id, OLD)
        capsys.readouterr()

        code = await migrate.main(["rollback", *tenant, "--to", OLD, "--operator", "alice", *queue])
        output = capsys.readouterr()

    assert sorted(before) == [0, 1, 1, 1]
    assert code == 0, output.err
    assert "rolled back" in output.out and f"from {NEW} to {OLD}" in output.out
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == OLD
    assert await vectors_per_item(runtime, thread.tenant_id, OLD) == [1, 1, 1, 1]
    hits = await runtime.recall.search(asker, 1, "Where is the Lisbon depot loading dock now?")
    assert any("Lisbon depot" in hit.text for hit in hits)


async def test_a_rollback_to_a_model_whose_vectors_were_cleaned_up_says_what_to_do(
    time_skipping_env, runtime, thread, capsys
):
    await seed(runtime, thread, 3)
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        await (await start_migration(client, thread.tenant_id, tq)).result()
        await runtime.migration.cleanup(thread.tenant_id, OLD)
        code = await migrate.start(client, thread.tenant_id, OLD, "alice", tq, rollback=True)

    refused = capsys.readouterr().err
    assert code == 1
    assert "has no vectors of that model" in refused
    assert f"`migrate.py start --tenant {thread.tenant_id} --to {OLD}`" in refused
    assert "InvalidInput" not in refused
    assert await runtime.tenants.current_embedding_model(thread.tenant_id) == NEW
