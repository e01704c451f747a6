"""Review the lessons reflection proposed: none reaches a skill, or a prompt, until approved.

    uv run python -m clients.lessons list
    uv run python -m clients.lessons list --tenant acme --agent support
    uv run python -m clients.lessons approve 12 --tenant acme --agent support --reviewer alice
    uv run python -m clients.lessons reject 13 --tenant acme --agent support --reviewer alice --note "wrong cause"

`list` reads the pending lessons from Postgres (DATABASE_URL, else the embedded stack's
.data/stack.env). A verdict runs a LessonReviewWorkflow (TEMPORAL_ADDRESS): an approved
lesson is written into /skills/<task-type>.md of that agent; a verdict is final.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import ValidationError  # noqa: E402
from temporalio.client import WorkflowFailureError  # noqa: E402

from clients.cache_review import _database_url_from_stack_file  # noqa: E402
from clients.connect import connect, failure_reason  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from clients.usage import database_engine  # noqa: E402
from contract.learning import (  # noqa: E402
    LessonReviewed,
    LessonReviewInput,
    lesson_review_id,  # noqa: E402
)
from contract.names import (
    LESSON_REVIEW_WORKFLOW,  # noqa: E402
    TASK_QUEUE,  # noqa: E402
)
from memory.core.refs import AgentRef  # noqa: E402
from memory.core.validation import InvalidInput, check_id  # noqa: E402
from memory.documents.path_store import DocumentStore  # noqa: E402
from memory.documents.skills import SkillLibrary  # noqa: E402
from memory.learning.lesson_review import MAX_LISTED, LessonReview, ProposedLesson  # noqa: E402
from wiring.checks import ServiceUnavailable  # noqa: E402

SHOWN_LESSON_CHARS = 100


def render_pending(lessons: list[ProposedLesson]) -> str:
    if not lessons:
        return "no lessons wait for review"
    lines = [f"{'id':>6}  {'proposed (UTC)':<16}  {'tenant':<16} {'agent':<16} {'skill':<24} from  lesson"]
    for item in lessons:
        lesson = item.lesson if len(item.lesson) <= SHOWN_LESSON_CHARS else item.lesson[: SHOWN_LESSON_CHARS - 1] + "…"
        lines.append(
            f"{item.id:>6}  {item.created_at.astimezone(UTC):%Y-%m-%d %H:%M}  {item.tenant_id:<16} {item.agent_id:<16} "
            f"{item.path:<24} {item.thread_id} turn {item.turn}  {lesson}"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="pending lessons, oldest first")
    listing.add_argument("--tenant")
    listing.add_argument("--agent")
    listing.add_argument("--limit", type=int, default=50, help=f"at most this many (1-{MAX_LISTED})")
    for verdict in ("approve", "reject"):
        review = commands.add_parser(verdict, help=f"{verdict} one lesson; a verdict is final")
        review.add_argument("id", type=int, help="the lesson id, from `list`")
        review.add_argument("--tenant", required=True)
        review.add_argument("--agent", required=True)
        review.add_argument("--reviewer", required=True, help="who reviews (kept with the lesson)")
        review.add_argument("--note", default="", help="why (kept with the lesson)")
        review.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
    return parser


async def list_pending(args: argparse.Namespace) -> int:
    _database_url_from_stack_file()
    async with database_engine() as engine:
        review = LessonReview(engine, SkillLibrary(DocumentStore(engine), engine))
        print(render_pending(await review.listed(tenant_id=args.tenant, agent_id=args.agent, limit=args.limit)))
    return 0


async def give_verdict(request: LessonReviewInput, task_queue: str) -> int:
    client = await connect()
    try:
        result = await client.execute_workflow(
            LESSON_REVIEW_WORKFLOW, request, id=lesson_review_id(request), task_queue=task_queue, result_type=LessonReviewed
        )
    except WorkflowFailureError as err:
        print(f"error: {failure_reason(err)}", file=sys.stderr)
        return 2
    where = f" ({result.path} v{result.version})" if result.version else ""
    print(f"lesson {result.lesson_id} {result.status} by {request.reviewer}{where}: {result.lesson}")
    return 0


async def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            for name in ("tenant", "agent"):
                if getattr(args, name) is not None:
                    check_id(name, getattr(args, name))
            return await list_pending(args)
        request = LessonReviewInput(
            agent=AgentRef(tenant_id=args.tenant, agent_id=args.agent),
            lesson_id=args.id,
            verdict=args.command,
            reviewer=args.reviewer,
            note=args.note,
        )
    except (ValidationError, InvalidInput) as err:
        return report_refused(err)
    except ServiceUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return await give_verdict(request, args.task_queue)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
