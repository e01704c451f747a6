"""Codify what a session learned: the only way a session-cache entry reaches long-term memory.

    uv run python clients/codify.py list --tenant acme --agent support --thread t1
    uv run python clients/codify.py promote --tenant acme --agent support --thread t1 \\
        --command "ls -z" --to skill:file-listing --operator alice
    uv run python clients/codify.py promote ... --to notebook --operator alice

`list` reads the session's live entries from the cache (REDIS_URL). `promote` runs a
CodifyWorkflow (TEMPORAL_ADDRESS) that writes the substitution as a lesson into the skill
/skills/<task-type>.md or as a note into the notebook, recording the operator. An entry
that has expired (or never existed) is refused and nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contract.learning import (
    CodifyInput,  # noqa: E402
    codify_id,  # noqa: E402
)
from contract.names import TASK_QUEUE  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from temporalio.client import WorkflowFailureError  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from memory.core.config import Settings  # noqa: E402
from memory.core.refs import AgentRef  # noqa: E402
from memory.core.validation import InvalidInput  # noqa: E402
from memory.documents.skills import check_task_type  # noqa: E402
from memory.learning.command_form import CommandNormalizer  # noqa: E402
from memory.learning.session_cache import SessionCache, SessionContext  # noqa: E402
from workflows.codify import CodifyWorkflow  # noqa: E402


async def list_entries(ctx: SessionContext) -> int:
    settings = Settings.from_env()
    if not settings.redis_url:
        print("error: REDIS_URL is not set: it names the Redis server of the session-learning cache", file=sys.stderr)
        return 2
    cache = SessionCache(
        settings.redis_url,
        ttl_seconds=settings.session_cache_ttl_seconds,
        normalizer=CommandNormalizer(settings.session_cache_normalization),
    )
    try:
        entries = await cache.entries(ctx)
        left = await cache.ttl_seconds_left(ctx)
    finally:
        await cache.close()
    if not entries:
        print(f"session {ctx.session_id} of agent {ctx.agent_id} has learned nothing (or its entries expired)")
        return 0
    print(f"session {ctx.session_id}: {len(entries)} learned substitution(s), expiring in {left or 0} s")
    for entry in entries:
        who = f" by {entry.operator}" if entry.operator else ""
        print(f"  `{entry.tried}` -> `{entry.instead}`  ({entry.source}{who}, {entry.recorded_at:%Y-%m-%d %H:%M})")
    return 0


async def promote(request: CodifyInput, task_queue: str) -> int:
    client = await connect()
    try:
        result = await client.execute_workflow(
            CodifyWorkflow.run,
            request,
            id=codify_id(request),
            task_queue=task_queue,
            static_summary=f"Codify by {request.operator}: {request.command[:60]}",
        )
    except WorkflowFailureError as err:
        print(f"error: {failure_reason(err)}; nothing was written", file=sys.stderr)
        return 2
    print(f"{result.path} v{result.version}: use `{result.instead}` instead of `{result.tried}` (by {request.operator})")
    return 0


def _target(value: str) -> tuple[str, str | None]:
    if value == "notebook":
        return "notebook", None
    if value.startswith("skill:") and value[len("skill:"):]:
        return "skill", check_task_type(value[len("skill:"):])
    raise InvalidInput(f"--to {value!r}: use skill:<task-type> or notebook")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    for name in ("list", "promote"):
        p = sub.add_parser(name)
        p.add_argument("--tenant", required=True)
        p.add_argument("--agent", required=True)
        p.add_argument("--thread", required=True, help="the session: the thread that learned it")
        p.add_argument("--project", default="default")
        if name == "promote":
            p.add_argument("--command", required=True, help="the command as tried (any whitespace or flag order)")
            p.add_argument("--to", required=True, help="skill:<task-type> or notebook")
            p.add_argument("--operator", required=True, help="who codifies it (recorded)")
            p.add_argument("--request-id", help="resending with the same id writes once")
            p.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
    args = parser.parse_args(argv)
    try:
        ctx = SessionContext(tenant_id=args.tenant, agent_id=args.agent, project=args.project, session_id=args.thread)
        if args.action == "list":
            return await list_entries(ctx)
        target, task_type = _target(args.to)
        request = CodifyInput(
            agent=AgentRef(tenant_id=args.tenant, agent_id=args.agent),
            project=args.project,
            session_id=args.thread,
            command=args.command,
            target=target,
            task_type=task_type,
            operator=args.operator,
            request_id=args.request_id or uuid.uuid4().hex,
        )
    except (ValidationError, InvalidInput) as err:
        return report_refused(err)
    return await promote(request, args.task_queue)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
