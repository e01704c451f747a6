"""Review the sampled session-cache substitutions: list the pending ones, approve or reject.

    uv run python -m clients.cache_review list
    uv run python -m clients.cache_review list --tenant acme --limit 20
    uv run python -m clients.cache_review approve 42 --reviewer alice
    uv run python -m clients.cache_review reject 43 --reviewer alice --note "the retry worked for another reason"

A verdict is final: an entry already reviewed is refused. Works on the Postgres database
named by DATABASE_URL; when that is not set, the one in .data/stack.env (written by
`python worker.py --dev`; AGENT_MEMORY_DATA_DIR moves .data) is used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clients.usage import database_engine  # noqa: E402
from memory.core.validation import InvalidInput, check_id  # noqa: E402
from memory.learning.cache_audit import MAX_PENDING_ROWS, AuditEntry, CacheAudit  # noqa: E402
from wiring.checks import ServiceUnavailable  # noqa: E402

# Longer commands are cut, and newlines flattened, in the table; the full text is in the audit row.
SHOWN_COMMAND_CHARS = 60


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="pending audit entries, oldest first")
    listing.add_argument("--tenant", help="only this tenant")
    listing.add_argument("--limit", type=int, default=50, help=f"at most this many entries (1-{MAX_PENDING_ROWS})")

    for verdict, meaning in (("approve", "the substitution was right"), ("reject", "the substitution was wrong")):
        review = commands.add_parser(verdict, help=f"{meaning}; a verdict is final")
        review.add_argument("id", type=int, help="the audit entry id, from `list`")
        review.add_argument("--reviewer", required=True, help="who reviews (kept with the entry)")
        review.add_argument("--note", default="", help="why (kept with the entry)")
    return parser


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_COMMAND_CHARS else flat[: SHOWN_COMMAND_CHARS - 1] + "…"


def render_pending(entries: list[AuditEntry]) -> str:
    if not entries:
        return "no pending audit entries"
    lines = [f"{'id':>6}  {'created (UTC)':<19}  {'tenant':<20} {'agent':<16} {'session':<16} {'source':<13}  tried -> instead"]
    for entry in entries:
        lines.append(
            f"{entry.id:>6}  {entry.created_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}  {entry.tenant_id:<20} {entry.agent_id:<16} "
            f"{entry.session_id:<16} {entry.source:<13}  {_shown(entry.tried)} -> {_shown(entry.instead)}"
        )
    return "\n".join(lines)


def render_verdict(entry: AuditEntry) -> str:
    note = f": {entry.review_note}" if entry.review_note else ""
    return (
        f"audit entry {entry.id} {entry.review_status} by {entry.reviewer}{note}\n"
        f"  {entry.tried} -> {entry.instead} (tenant {entry.tenant_id}, session {entry.session_id})"
    )


def _database_url_from_stack_file() -> None:
    """Point DATABASE_URL at the embedded stack's database when the environment names none."""
    if os.environ.get("DATABASE_URL"):
        return
    env_file = Path(os.environ.get("AGENT_MEMORY_DATA_DIR", ".data")) / "stack.env"
    if not env_file.is_file():
        return
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "DATABASE_URL" and value.strip():
            os.environ["DATABASE_URL"] = value.strip()


def _check(args: argparse.Namespace) -> None:
    """Refuse bad input before connecting, so a typo is reported as a typo."""
    if args.command == "list":
        if args.tenant is not None:
            check_id("tenant", args.tenant)
        if not 1 <= args.limit <= MAX_PENDING_ROWS:
            raise InvalidInput(f"--limit must be 1-{MAX_PENDING_ROWS}, got {args.limit}")
    elif not args.reviewer.strip():
        raise InvalidInput("--reviewer must name who reviews")


async def _execute(args: argparse.Namespace) -> int:
    async with database_engine() as engine:
        audit = CacheAudit(engine)
        if args.command == "list":
            print(render_pending(await audit.pending(args.tenant, args.limit)))
        else:
            verdict = "approved" if args.command == "approve" else "rejected"
            entry = await audit.review(args.id, verdict=verdict, reviewer=args.reviewer, note=args.note)
            print(render_verdict(entry))
    return 0


async def run(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    try:
        _check(args)
        _database_url_from_stack_file()
        return await _execute(args)
    except InvalidInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ServiceUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(argv))


if __name__ == "__main__":
    raise SystemExit(main())
