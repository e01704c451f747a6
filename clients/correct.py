"""Correct an agent in the middle of its work: "you tried X, do Y instead".

    uv run python clients/correct.py --tenant acme --agent support --thread t1 \\
        --operator alice --tried "pip install foo" --instead "uv add foo"

The correction goes to the thread's running conversation (a Temporal Update): it applies
to the running turn's next model call, or to the next turn, is recorded with the
operator's name, and is learned for the rest of the session. A thread whose conversation
is not running is refused and nothing is recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from memory.learning.models import Correction  # noqa: E402
from pydantic import ValidationError  # noqa: E402
from temporalio.client import WorkflowUpdateFailedError  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from clients.conversation import NoRunningConversation, correct  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from memory.core.refs import ThreadRef  # noqa: E402


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--thread", required=True)
    parser.add_argument("--operator", required=True, help="who corrects (recorded with the correction)")
    parser.add_argument("--tried", required=True, help="what the agent did or was about to do")
    parser.add_argument("--instead", required=True, help="what it should do instead")
    parser.add_argument("--request-id", help="resending with the same id records the correction once")
    args = parser.parse_args(argv)
    try:
        thread = ThreadRef(tenant_id=args.tenant, agent_id=args.agent, thread_id=args.thread)
        correction = Correction(tried=args.tried, instead=args.instead, operator=args.operator)
    except ValidationError as err:
        return report_refused(err)
    client = await connect()
    try:
        receipt = await correct(client, thread, correction, request_id=args.request_id)
    except NoRunningConversation as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except WorkflowUpdateFailedError as err:
        print(f"error: {failure_reason(err)}", file=sys.stderr)
        return 1
    when = "the running turn" if receipt.turn_running else "the next turn"
    print(
        f"correction {receipt.correction_id} recorded for turn {receipt.applies_to_turn} ({when}); "
        f"learned for this session as {receipt.learned_key!r}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
