"""Show and flip the run-time switches; a change is in force from the next read, no redeploy.

    uv run python clients/switches.py show --tenant acme
    uv run python clients/switches.py show --global
    uv run python clients/switches.py set graph_extraction off --tenant acme --operator alice --reason "cost"
    uv run python clients/switches.py set layer.graph.enabled off --global --operator alice
    uv run python clients/switches.py set graph_extraction default --global --operator alice
    uv run python clients/switches.py plan --tenant acme trial --operator alice --reason "pilot"
    uv run python clients/switches.py history --tenant acme --name graph_extraction

The value "default" clears a tenant's (or the global) value, so the global value or the
default applies again. `set` and `plan` run SwitchChangeWorkflow on Temporal (the SDK's
environment configuration), so a change is acknowledged and recorded with its operator;
`show` and `history` read the Postgres database named by DATABASE_URL. With the HTTP API
running, `agent-memory switches` does the same with a tenant's key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clients.usage import database_engine  # noqa: E402
from contract.names import TASK_QUEUE  # noqa: E402
from contract.switches import PLAN, SwitchChangeRequest  # noqa: E402
from memory.core.config import Settings  # noqa: E402
from memory.core.switches import (  # noqa: E402
    GLOBAL,
    GRAPH_EXTRACTION,
    INGEST_MIN_CHARS,
    SWITCHES,
    EffectiveSwitches,
    GlobalSwitches,
    SwitchBoard,
    SwitchChange,
    format_value,
    layer_switch,
    parse_value,
    switch_spec,
)
from memory.core.tenants import Plan, check_change_note  # noqa: E402
from memory.core.validation import InvalidInput, check_id  # noqa: E402
from wiring.checks import ServiceUnavailable  # noqa: E402

# The value word that clears a level instead of setting it.
CLEAR = "default"


def _scope_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    scope = parser.add_mutually_exclusive_group(required=required)
    scope.add_argument("--tenant", help="a tenant id")
    scope.add_argument("--global", dest="everyone", action="store_true", help="the global value, for every tenant")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    show = commands.add_parser("show", help="the switches in force and where each value comes from")
    _scope_arguments(show, required=True)
    show.add_argument("--json", action="store_true")

    flip = commands.add_parser("set", help="set a switch; in force from the next read")
    flip.add_argument("name", help=", ".join(SWITCHES))
    flip.add_argument("value", help="on/off/true/false, a whole number, or 'default' to clear")
    _scope_arguments(flip, required=True)
    flip.add_argument("--operator", required=True, help="who makes the change (kept in the history)")
    flip.add_argument("--reason", default="", help="why (kept in the history)")

    plan = commands.add_parser("plan", help="show or set a tenant's plan")
    plan.add_argument("--tenant", required=True)
    plan.add_argument("plan", nargs="?", choices=[p.value for p in Plan])
    plan.add_argument("--operator", help="who makes the change (kept in the history); needed to set")
    plan.add_argument("--reason", default="", help="why (kept in the history)")

    history = commands.add_parser("history", help="switch changes, newest first")
    _scope_arguments(history, required=False)
    history.add_argument("--name", help="only this switch")
    history.add_argument("--limit", type=int, default=50)
    history.add_argument("--json", action="store_true")
    return parser


def _rows(values: dict[str, str], sources: dict[str, str]) -> list[str]:
    width = max(len(name) for name in SWITCHES)
    return [f"  {name:<{width}}  {values[name]:<5}  {sources[name]}" for name in SWITCHES]


def _layer_values(layers: dict[str, bool]) -> dict[str, str]:
    return {layer_switch(layer): format_value(on) for layer, on in layers.items()}


def render_effective(switches: EffectiveSwitches) -> str:
    values = {
        GRAPH_EXTRACTION: format_value(switches.graph_extraction),
        INGEST_MIN_CHARS: format_value(switches.ingest_min_chars),
        **_layer_values(switches.layers),
    }
    return "\n".join([f"tenant {switches.tenant_id} (plan {switches.plan})", *_rows(values, switches.sources)])


def render_global(switches: GlobalSwitches) -> str:
    values = {
        # Not set globally: no one value to print, each tenant's plan decides.
        GRAPH_EXTRACTION: "-" if switches.graph_extraction is None else format_value(switches.graph_extraction),
        INGEST_MIN_CHARS: format_value(switches.ingest_min_chars),
        **_layer_values(switches.layers),
    }
    return "\n".join(["global switches", *_rows(values, switches.sources)])


def render_history(changes: list[SwitchChange]) -> str:
    if not changes:
        return "no switch changes recorded"
    lines = []
    for change in changes:
        scope = "global" if change.tenant_id is None else f"tenant {change.tenant_id}"
        reason = f": {change.reason}" if change.reason else ""
        lines.append(
            f"{change.created_at:%Y-%m-%d %H:%M:%S %Z} {scope:<20} {change.name} = {format_value(change.value)}"
            f" by {change.operator}{reason}"
        )
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> None:
    """Refuse bad input before connecting, so a typo is reported as a typo."""
    if getattr(args, "tenant", None) is not None:
        check_id("tenant", args.tenant)
    if args.command == "set":
        cleared = args.value.strip().lower() == CLEAR
        args.value = None if cleared else parse_value(args.name, args.value)
        if args.tenant is not None and switch_spec(args.name).global_only:
            raise InvalidInput(f"{args.name} is a global switch: it cannot be set for one tenant")
    if args.command in ("set", "plan") and getattr(args, "operator", None) is not None:
        check_change_note(args.operator, args.reason)
    if args.command == "history" and args.name is not None:
        switch_spec(args.name)


async def _through_workflow(tenant_id: str | None, name: str, value, operator: str, reason: str) -> None:
    from clients.connect import connect
    from clients.switch_change import change_switch

    request = SwitchChangeRequest(
        tenant_id=tenant_id, name=name, value=value, operator=operator, reason=reason, request_id=uuid.uuid4().hex
    )
    await change_switch(await connect(), request, task_queue=os.environ.get("TASK_QUEUE", TASK_QUEUE))


async def _execute(args: argparse.Namespace) -> int:
    async with database_engine() as engine:
        settings = Settings.from_env()
        # The runtime's default threshold, so "default" here means what ingestion uses.
        board = SwitchBoard(engine, default_ingest_min_chars=settings.ingest_min_chars)
        if args.command == "show":
            if args.everyone:
                switches = await board.global_switches()
                print(switches.model_dump_json(indent=2) if args.json else render_global(switches))
            else:
                effective = await board.effective(args.tenant)
                print(effective.model_dump_json(indent=2) if args.json else render_effective(effective))
        elif args.command == "set":
            tenant_id = None if args.everyone else args.tenant
            await _through_workflow(tenant_id, args.name, args.value, args.operator, args.reason)
            scope = "globally" if tenant_id is None else f"for tenant {tenant_id}"
            done = "cleared" if args.value is None else f"set to {format_value(args.value)}"
            print(f"{args.name} {done} {scope} by {args.operator.strip()}")
            if tenant_id is not None:
                print(render_effective(await board.effective(tenant_id)))
        elif args.command == "plan":
            if args.plan is not None:
                if args.operator is None:
                    raise InvalidInput("changing the plan needs --operator: the change is recorded with who made it")
                await _through_workflow(args.tenant, PLAN, args.plan, args.operator, args.reason)
            print(render_effective(await board.effective(args.tenant)))
        elif args.command == "history":
            scope = GLOBAL if args.everyone else args.tenant
            changes = await board.history(scope, args.name, args.limit)
            if args.json:
                print(json.dumps([change.model_dump(mode="json") for change in changes], indent=2))
            else:
                print(render_history(changes))
    return 0


async def run(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    try:
        _check(args)
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
