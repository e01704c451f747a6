"""Retention: run it now, make sure its schedule exists, or mark a tenant active.

    uv run python clients/retention.py run [--episode-days 90] [--recall-days 180]
    uv run python clients/retention.py schedule [--every-hours 24]
    uv run python clients/retention.py active --tenant acme --on|--off

A run truncates episode transcripts older than the horizon to their summaries, and prunes
recall rows not retrieved for N days unless their tenant is active, then prints what it
removed per tenant. The worker creates the schedule itself unless RETENTION_SCHEDULE_HOURS=0.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract.learning import RETENTION_SCHEDULE_ID, RetentionPolicy, describe  # noqa: E402
from contract.names import TASK_QUEUE  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from temporalio.client import WorkflowFailureError  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from clients.usage import database_engine  # noqa: E402
from memory.core.config import Settings  # noqa: E402
from memory.core.tenants import TenantRegistry  # noqa: E402
from memory.core.validation import InvalidInput  # noqa: E402
from wiring.checks import ServiceUnavailable  # noqa: E402
from wiring.schedules import ensure_retention_schedule  # noqa: E402
from workflows.retention import RetentionWorkflow  # noqa: E402

# A schedule that fires less than once a year is no schedule; past this, a typo is likelier.
MAX_EVERY_HOURS = 24 * 366


async def run_now(policy: RetentionPolicy, task_queue: str) -> int:
    client = await connect()
    try:
        report = await client.execute_workflow(
            RetentionWorkflow.run,
            policy,
            id=f"retention/manual-{uuid.uuid4().hex[:12]}",
            task_queue=task_queue,
            static_summary="Retention, started by hand",
        )
    except WorkflowFailureError as err:
        print(f"error: {failure_reason(err)}", file=sys.stderr)
        return 1
    print(describe(report).replace("**", ""))
    return 0


async def schedule(policy: RetentionPolicy, every_hours: float, task_queue: str) -> int:
    client = await connect()
    created = await ensure_retention_schedule(
        client, task_queue=task_queue, every=timedelta(hours=every_hours), policy=policy
    )
    print(f"schedule {RETENTION_SCHEDULE_ID!r} " + ("created" if created else "already exists (left as it is)"))
    return 0


async def mark_active(tenant_id: str, active: bool) -> int:
    async with database_engine() as engine:
        await TenantRegistry(engine, Settings.from_env().embedding_model).set_active(tenant_id, active)
    print(f"tenant {tenant_id} is {'active: its recall rows are kept' if active else 'not active: retention prunes it'}")
    return 0


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    settings = Settings.from_env()
    for name in ("run", "schedule"):
        p = sub.add_parser(name)
        p.add_argument("--episode-days", type=int, default=settings.episode_retention_days)
        p.add_argument("--recall-days", type=int, default=settings.recall_retention_days)
        p.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
        if name == "schedule":
            p.add_argument("--every-hours", type=float, default=settings.retention_schedule_hours or 24.0)
    p = sub.add_parser("active")
    p.add_argument("--tenant", required=True)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--on", dest="active", action="store_true")
    group.add_argument("--off", dest="active", action="store_false")
    args = parser.parse_args(argv)
    try:
        if args.action == "active":
            return await mark_active(args.tenant, args.active)
        policy = RetentionPolicy(episode_retention_days=args.episode_days, recall_retention_days=args.recall_days)
        if args.action == "run":
            return await run_now(policy, args.task_queue)
        if not (math.isfinite(args.every_hours) and 0 < args.every_hours <= MAX_EVERY_HOURS):
            raise InvalidInput(f"--every-hours must be a number of hours above 0 and at most {MAX_EVERY_HOURS}, "
                               f"got {args.every_hours}")
        return await schedule(policy, args.every_hours, args.task_queue)
    except (ValidationError, InvalidInput, ServiceUnavailable) as err:
        return report_refused(err)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
