"""`agent-memory agents ...`: define agents and read their versions, over the HTTP API.
Saves need an operator key; the API records the key as the version's author."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.output import Json, show, table

agents_app = typer.Typer(
    help="Agents the tenant defines: instructions, model, tools, limits; every change a version.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

File = Annotated[Path, typer.Option("--file", "-f", help="the definition as JSON (see README, 'Defining an agent')")]
Note = Annotated[str, typer.Option(help="why, for the history")]
RequestId = Annotated[Optional[str], typer.Option(help="resending with the same id saves no second version")]


def _definition(file: Path) -> dict:
    import json

    try:
        definition = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise SystemExit(f"error: cannot read the definition in {file}: {err}") from None
    if not isinstance(definition, dict):
        raise SystemExit(f"error: {file} holds no JSON object: a definition is one object")
    return definition


def _saved(saved: dict) -> None:
    print(f"agent {saved['agent_id']} v{saved['version']} saved; tools: {', '.join(saved['tools']) or 'none'}")


@agents_app.command("create")
def create(agent: str, file: File, note: Note = "", request_id: RequestId = None, as_json: Json = False) -> None:
    """Define AGENT (its version 1); refused if it exists already."""
    from cli.http import call

    body = {"agent_id": agent, "definition": _definition(file), "note": note, "request_id": request_id}
    show(call("POST", "/v1/agents", json_body=body), as_json, _saved)


@agents_app.command("update")
def update(
    agent: str,
    file: File,
    based_on: Annotated[Optional[int], typer.Option(help="refuse if the newest version is no longer this one")] = None,
    note: Note = "",
    request_id: RequestId = None,
    as_json: Json = False,
) -> None:
    """Save AGENT's next version; its threads use it from their next turn."""
    from cli.http import call

    body = {"definition": _definition(file), "note": note, "based_on": based_on, "request_id": request_id}
    show(call("PUT", f"/v1/agents/{agent}", json_body=body), as_json, _saved)


@agents_app.command("show")
def show_agent(
    agent: str, version: Annotated[Optional[int], typer.Option(help="an older version")] = None, as_json: Json = False
) -> None:
    """AGENT's newest definition (or --version N), as it is stored."""
    from cli.http import call

    params = [("version", str(version))] if version else None
    show(call("GET", f"/v1/agents/{agent}", params=params), as_json, _describe)


def _describe(version: dict) -> None:
    spec = version["spec"]
    print(f"agent {version['agent_id']} v{version['version']}, {version['created_at'][:16]} by {version['author']}"
          + (f": {version['note']}" if version["note"] else ""))
    print(f"model: {spec['model']}" + (f" at {spec['base_url']}" if spec.get("base_url") else ""))
    tools = [*spec["builtin_tools"], *(t["name"] for t in version["mcp_tools"])]
    print(f"tools: {', '.join(tools) or 'none'}")
    print(f"limits: {spec['limits'] or 'the thread defaults'}")
    print(f"reads: {', '.join(spec['reads'])}")
    print("instructions:")
    print(spec["instructions"])


@agents_app.command("list")
def list_agents(as_json: Json = False) -> None:
    """The tenant's agents, each at its newest version."""
    from cli.http import call

    show(call("GET", "/v1/agents"), as_json, lambda agents: table(
        "agents", ["agent", "version", "model", "saved", "by"],
        [[a["agent_id"], a["version"], a["spec"]["model"], a["created_at"][:16], a["author"]] for a in agents],
    ))


@agents_app.command("history")
def history(agent: str, as_json: Json = False) -> None:
    """Every version of AGENT: who saved it, when, and why."""
    from cli.http import call

    show(call("GET", f"/v1/agents/{agent}/versions"), as_json, lambda versions: table(
        f"agent {agent}", ["version", "saved", "by", "model", "note"],
        [[v["version"], v["created_at"][:16], v["author"], v["spec"]["model"], v["note"]] for v in versions],
    ))


@agents_app.command("diff")
def diff(agent: str, old: int, new: int, as_json: Json = False) -> None:
    """What changed from version OLD to version NEW of AGENT."""
    from cli.http import call

    params = [("from_version", str(old)), ("to_version", str(new))]
    show(call("GET", f"/v1/agents/{agent}/diff", params=params), as_json, lambda d: print("\n".join(d["diff"]) or "no change"))
