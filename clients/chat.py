"""Send one message to an agent's thread and print the reply.

    uv run python clients/chat.py --tenant acme --agent support --thread t1 "Hello"
    uv run python clients/chat.py --tenant acme --agent support --thread t1 --json "Hello"

The thread's conversation workflow is started on its first message and reused after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import ValidationError  # noqa: E402
from temporalio.client import WorkflowUpdateFailedError  # noqa: E402

from clients.connect import connect  # noqa: E402
from clients.conversation import send_message  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from clients.stdin import read_stdin_text  # noqa: E402
from contract.conversation import ConversationLimits, TurnResult, UserMessage  # noqa: E402
from contract.names import TASK_QUEUE  # noqa: E402
from memory.core.refs import ThreadRef  # noqa: E402
from memory.core.validation import InvalidInput, check_message  # noqa: E402


def _print_turn(result: TurnResult) -> None:
    print(result.reply)
    print()
    agent = f"agent {result.workflow_id.split('/')[2]} v{result.agent_version}, " if result.agent_version else ""
    print(f"-- turn {result.turn} of {result.workflow_id}, answered by {agent}{result.provider}/{result.model}")
    for item in result.manifest:
        score = f" score {item.score:.2f}" if item.score is not None else ""
        origin = ""
        if item.source_episode:
            since = f"valid since {item.valid_at:%Y-%m-%d %H:%M}, " if item.valid_at else ""
            origin = f" ({since}from {item.source_episode})"
        print(f"   {item.layer.value:<21} {item.ref:<26} {item.source_time:%Y-%m-%d %H:%M} {item.label}{score}{origin}")
    for call in result.tool_calls or result.tools_used:
        print(f"   tool  {call}")
    print(f"   task type {result.task_type}; outcome {result.outcome}" + (
        f"; {result.corrections_applied} operator correction(s) applied" if result.corrections_applied else ""
    ))
    u = result.usage
    print(
        f"   tokens: {u.input_tokens} in, {u.output_tokens} out, "
        f"prompt cache {u.cache_read_input_tokens} read / {u.cache_creation_input_tokens} written"
    )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--thread", required=True)
    parser.add_argument("--json", action="store_true", help="print the whole turn as one JSON object")
    parser.add_argument("--delegated", action="store_true", help="the sender is another agent (not ingested into the graph)")
    parser.add_argument("--request-id", help="resending with the same id returns the same turn, not a new one")
    parser.add_argument(
        "--project", default="default", help="the project the thread works in (what a session learns is keyed by it)"
    )
    parser.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
    parser.add_argument("message", help="the user message ('-' reads it from standard input)")
    args = parser.parse_args(argv)

    limits = ConversationLimits.from_env()
    try:
        text = read_stdin_text() if args.message == "-" else args.message
        thread = ThreadRef(tenant_id=args.tenant, agent_id=args.agent, thread_id=args.thread)
        message = UserMessage(text=check_message(text, max_chars=limits.max_message_chars), delegated=args.delegated)
    except (ValidationError, InvalidInput) as err:
        return report_refused(err)
    client = await connect()
    try:
        result = await send_message(
            client,
            thread,
            message,
            task_queue=args.task_queue,
            limits=limits,
            request_id=args.request_id,
            project=args.project,
        )
    except WorkflowUpdateFailedError as err:
        print(f"error: {err.cause or err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        _print_turn(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
