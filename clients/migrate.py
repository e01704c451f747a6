"""Move a tenant's memory to a new embedding model, watch it, and steer it.

    uv run python clients/migrate.py start --tenant acme --to offline/hashed-ngrams/384
    uv run python clients/migrate.py start --all-tenants --to voyage/voyage-3/1024
    uv run python clients/migrate.py status --tenant acme [--watch]
    uv run python clients/migrate.py pause|resume|cancel --tenant acme
    uv run python clients/migrate.py rollback --tenant acme --to offline/hashed-ngrams/256
    uv run python clients/migrate.py cleanup --tenant acme --model offline/hashed-ngrams/256

A model id names provider, model and dimension. Queries keep using the tenant's current
model until the migration has verified the new vectors and switched; old vectors are kept
until `cleanup`, so until then `rollback` is one command: it runs as a short migration
that embeds, with the old model, only what was written since the switch, then switches
back. --all-tenants reads the tenant list from DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import (  # noqa: E402
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import WorkflowAlreadyStartedError  # noqa: E402
from temporalio.service import RPCError, RPCStatusCode  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from contract.migration import (  # noqa: E402
    FenceChange,
    MigrationProgress,
    MigrationRequest,
    MigrationResult,
    MigrationStart,
    migration_id,
)
from contract.names import (  # noqa: E402
    CANCEL_SIGNAL,
    EMBEDDING_FENCE_WORKFLOW,
    EMBEDDING_MIGRATION_WORKFLOW,
    PAUSE_SIGNAL,
    PROGRESS_QUERY,
    RESUME_SIGNAL,  # noqa: E402
    TASK_QUEUE,  # noqa: E402
)
from memory.core.config import Settings  # noqa: E402
from memory.core.validation import InvalidInput, check_id  # noqa: E402
from memory.embedding.base import EmbeddingModelId  # noqa: E402

# How long `start` waits for the migration's own checks (its plan) before it leaves it running.
PLAN_PATIENCE = timedelta(seconds=30)


async def start(
    client: Client, tenant_id: str, to_model: str, operator: str, task_queue: str, *, rollback: bool = False
) -> int:
    request = MigrationRequest(tenant_id=tenant_id, to_model=to_model, requested_by=operator, rollback=rollback)
    kind = "rollback" if rollback else "migration"
    try:
        handle = await client.start_workflow(
            EMBEDDING_MIGRATION_WORKFLOW,
            MigrationStart(request=request),
            id=migration_id(tenant_id),
            task_queue=task_queue,
            static_summary=f"Embedding {kind}: tenant {tenant_id} to {to_model}, by {operator}",
            result_type=MigrationResult,
        )
    except WorkflowAlreadyStartedError:
        print(
            f"error: tenant {tenant_id} already has a migration running: workflow {migration_id(tenant_id)}; "
            "see `status`, or `cancel` it first",
            file=sys.stderr,
        )
        return 1
    # The worker knows which models it can serve and which tenants exist: wait for the
    # migration's plan, so a request that can never succeed is refused here, not in `status`.
    planned, refused = await _planned(handle)
    if refused is not None:
        print(f"error: {kind} of {tenant_id} to {to_model} refused: {refused}", file=sys.stderr)
        return 1
    print(f"started {migration_id(tenant_id)}: {tenant_id} -> {to_model}" + (" (rollback)" if rollback else ""))
    if not planned:
        print(f"its plan has not finished after {PLAN_PATIENCE.total_seconds():.0f} s; see `status`", file=sys.stderr)
        return 0
    if rollback:
        # Short (only what was written since the switch), so the operator gets the outcome here.
        return await status(client, tenant_id, watch=False, wait=True)
    return 0


_CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
}


async def _planned(handle: WorkflowHandle) -> tuple[bool, str | None]:
    """(whether the migration got past its plan, why it failed if it did). Read from the
    history rather than a query, which would wait for a worker that may not be there."""
    deadline = time.monotonic() + PLAN_PATIENCE.total_seconds()
    while time.monotonic() < deadline:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                return True, None  # the plan is the first activity
            if event.event_type in _CLOSED:
                try:
                    await handle.result()
                    return True, None
                except WorkflowFailureError as err:
                    return False, failure_reason(err)
        await asyncio.sleep(0.1)
    return False, None


def _bar(p: MigrationProgress) -> str:
    total = max(p.total_rows, 1)
    filled = int(30 * min(p.rows_done, total) / total)
    eta = f"ETA {p.eta_seconds:.0f}s" if p.eta_seconds is not None else "ETA -"
    state = f"PAUSED: {p.pause_reason}" if p.paused else p.phase
    return (
        f"{p.tenant_id} {p.from_model} -> {p.to_model} [{'#' * filled}{'.' * (30 - filled)}] "
        f"{p.rows_done}/{p.total_rows} rows, {p.graph_done} graph items, {p.rows_per_second} rows/s, {eta}  {state}"
    )


async def status(client: Client, tenant_id: str, watch: bool, wait: bool = False) -> int:
    handle = client.get_workflow_handle(migration_id(tenant_id), result_type=MigrationResult)
    while True:
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                print(f"error: tenant {tenant_id} has no migration", file=sys.stderr)
                return 1
            raise
        if description.status is not None and description.status.name != "RUNNING":
            try:
                result = await handle.result()
                print(("\n" if watch else "") + result.detail)
                return 0
            except WorkflowFailureError as err:
                print(f"\rmigration failed: {failure_reason(err)}", file=sys.stderr)
                return 1
        progress = await handle.query(PROGRESS_QUERY, result_type=MigrationProgress)
        if wait and progress.paused:
            print(_bar(progress))
            print(f"error: it paused itself; `status --tenant {tenant_id}` follows it", file=sys.stderr)
            return 1
        if wait:
            await asyncio.sleep(0.5)
            continue
        print(("\r" if watch else "") + _bar(progress), end="" if watch else "\n", flush=True)
        if not watch:
            return 0
        await asyncio.sleep(1.0)


async def steer(client: Client, tenant_id: str, action: str) -> int:
    handle = client.get_workflow_handle(migration_id(tenant_id))
    signal = {"pause": PAUSE_SIGNAL, "resume": RESUME_SIGNAL, "cancel": CANCEL_SIGNAL}[action]
    try:
        await handle.signal(signal)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            print(f"error: tenant {tenant_id} has no running migration", file=sys.stderr)
            return 1
        raise
    print(f"{action} sent to {migration_id(tenant_id)}")
    return 0


async def change_fence(client: Client, change: FenceChange, task_queue: str) -> int:
    if await migration_running(client, change.tenant_id):
        # The migration's switch would move the graph and the fence after this change, to
        # its own target: the tenant's stores would end up on different models.
        print(
            f"error: tenant {change.tenant_id} has a migration running: workflow {migration_id(change.tenant_id)}; "
            f"cancel it (`migrate.py cancel --tenant {change.tenant_id}`) or let it finish before a {change.action}",
            file=sys.stderr,
        )
        return 1
    try:
        print(
            await client.execute_workflow(
                EMBEDDING_FENCE_WORKFLOW,
                change,
                id=f"fence/{change.tenant_id}/{change.action}/{int(time.time())}",
                task_queue=task_queue,
            )
        )
    except WorkflowFailureError as err:
        print(f"error: {failure_reason(err)}", file=sys.stderr)
        return 1
    return 0


async def migration_running(client: Client, tenant_id: str) -> bool:
    try:
        described = await client.get_workflow_handle(migration_id(tenant_id)).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.status == WorkflowExecutionStatus.RUNNING


async def all_tenants() -> list[str]:
    # Imported here: the other commands send one request and need no database stack.
    from sqlalchemy import select

    from memory.core.db import create_engine
    from memory.core.schema import tenants

    settings = Settings.from_env()
    if not settings.database_url:
        raise InvalidInput("--all-tenants reads the tenants from DATABASE_URL, which is not set")
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(select(tenants.c.tenant_id).order_by(tenants.c.tenant_id))).scalars())
    finally:
        await engine.dispose()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "status", "pause", "resume", "cancel", "rollback", "cleanup"):
        p = sub.add_parser(name)
        scope = p.add_mutually_exclusive_group(required=True)
        scope.add_argument("--tenant")
        if name == "start":
            scope.add_argument("--all-tenants", action="store_true")
        if name in ("start", "rollback"):
            p.add_argument("--to", required=True, help="provider/model/dimension")
        if name == "cleanup":
            p.add_argument("--model", required=True, help="the model whose vectors to delete")
        if name in ("start", "rollback"):
            p.add_argument("--operator", default=os.environ.get("USER", "operator"))
        if name == "status":
            p.add_argument("--watch", action="store_true", help="redraw the progress bar until it ends")
        p.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
    args = parser.parse_args(argv)
    try:
        for model in (getattr(args, "to", None), getattr(args, "model", None)):
            if model:
                EmbeddingModelId.parse(model)
        targets = await all_tenants() if getattr(args, "all_tenants", False) else [check_id("tenant", args.tenant)]
    except (InvalidInput, ValueError) as err:
        return report_refused(err)
    client = await connect()
    if args.command == "start":
        codes = [await start(client, t, args.to, args.operator, args.task_queue) for t in targets]
        return max(codes, default=0)
    tenant_id = targets[0]
    if args.command == "status":
        return await status(client, tenant_id, args.watch)
    if args.command in ("pause", "resume", "cancel"):
        return await steer(client, tenant_id, args.command)
    if args.command == "rollback":
        return await start(client, tenant_id, args.to, args.operator, args.task_queue, rollback=True)
    cleanup = FenceChange(action="cleanup", tenant_id=tenant_id, model=args.model)
    return await change_fence(client, cleanup, args.task_queue)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
