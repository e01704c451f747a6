"""agent-memory switches: what is in force, change a switch or the plan, and who changed what.

A tenant's switches and plan go through the API (the key is the operator). Global switches
(the layers' kill switches, for every tenant) belong to the deployment's operator and go to
Temporal directly, with --operator naming who."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli.output import Json, show, table

switches_app = typer.Typer(
    help="Run-time switches and the tenant's plan: in force from the next read, no redeploy.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def register(app: typer.Typer) -> None:
    app.add_typer(switches_app, name="switches")


@switches_app.callback(invoke_without_command=True)
def switches_show(ctx: typer.Context, as_json: Json = False) -> None:
    """The switches in force for the tenant, and where each value comes from."""
    if ctx.invoked_subcommand is not None:
        return
    from cli.http import call

    show(call("GET", "/v1/switches"), as_json, _render_effective)


def _render_effective(s: dict) -> None:
    table(
        f"tenant {s['tenant_id']} (plan {s['plan']})",
        ["switch", "value", "from"],
        [[name, _shown(s, name), source] for name, source in s["sources"].items()],
    )


def _shown(s: dict, name: str) -> str:
    value = s["layers"].get(name.split(".")[1]) if name.startswith("layer.") else s.get(name)
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


@switches_app.command("set")
def switches_set(
    name: str,
    value: Annotated[str, typer.Argument(help="on/off, a whole number, or 'default' to clear")],
    reason: Annotated[str, typer.Option(help="why (kept in the history)")] = "",
    everyone: Annotated[bool, typer.Option("--global", help="every tenant's value (Temporal directly)")] = False,
    operator: Annotated[Optional[str], typer.Option(help="who, for --global (with a key, the key is)")] = None,
    as_json: Json = False,
) -> None:
    """Set NAME to VALUE for the tenant (or, with --global, for every tenant)."""
    if everyone:
        from cli import direct, route

        if not operator:
            raise SystemExit("error: --global needs --operator: a global change is recorded with who made it")
        route.say("temporal", "a global switch is the deployment's: talking to Temporal directly")
        receipt = direct.change_switch(name, value, tenant_id=None, operator=operator, reason=reason)
        show(receipt, as_json, _render_receipt)
        return
    from cli.http import call

    answer = call("PUT", f"/v1/switches/{name}", json_body={"value": value, "reason": reason})
    show(answer, as_json, lambda a: (_render_receipt(a["change"]), _render_effective(a["switches"])))


@switches_app.command("plan")
def switches_plan(
    plan: Annotated[str, typer.Argument(help="standard or trial")],
    reason: Annotated[str, typer.Option(help="why (kept in the history)")] = "",
    as_json: Json = False,
) -> None:
    """Put the tenant on PLAN, which sets its switches' defaults."""
    from cli.http import call

    answer = call("PUT", "/v1/plan", json_body={"plan": plan, "reason": reason})
    show(answer, as_json, lambda a: (_render_receipt(a["change"]), _render_effective(a["switches"])))


def _render_receipt(r: dict) -> None:
    scope = f"tenant {r['tenant_id']}" if r["tenant_id"] else "every tenant"
    why = f" ({r['reason']})" if r["reason"] else ""
    print(f"{r['name']} = {r['value']} for {scope} by {r['operator']}{why}")


@switches_app.command("history")
def switches_history(
    name: Annotated[Optional[str], typer.Option(help="only this switch")] = None,
    limit: int = 50,
    as_json: Json = False,
) -> None:
    """Switch and plan changes of the tenant, newest first, with who and why."""
    from cli.http import call

    params = [("limit", str(limit))] + ([("name", name)] if name else [])
    changes = {"switches": call("GET", "/v1/switches/history", params=params)}
    if name is None:
        changes["plans"] = call("GET", "/v1/plan/history", params=[("limit", str(limit))])
    rows = [[c["created_at"][:16].replace("T", " "), c["name"], _word(c["value"]), c["operator"], c["reason"]] for c in changes["switches"]]
    rows += [[p["created_at"][:16].replace("T", " "), "plan", p["plan"], p["operator"], p["reason"]] for p in changes.get("plans", [])]
    show(changes, as_json, lambda _: table("changes", ["at", "switch", "value", "by", "reason"], sorted(rows, reverse=True)[:limit]))


def _word(value) -> str:
    if value is None:
        return "default"
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
