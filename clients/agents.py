"""Define an agent: its instructions, model, tools and limits, versioned.

    uv run python clients/agents.py create --tenant acme --agent support --author alice --file support.json
    uv run python clients/agents.py update --tenant acme --agent support --author alice --file support.json \\
        --based-on 3 --note "shorter answers"
    uv run python clients/agents.py show --tenant acme --agent support [--version 2]
    uv run python clients/agents.py list --tenant acme
    uv run python clients/agents.py history --tenant acme --agent support
    uv run python clients/agents.py diff --tenant acme --agent support 2 3

The file is the definition as JSON (see README, "Defining an agent"). A save checks it
whole, fetches the tool lists of its MCP servers, and stores a new version; the agent's
next turn uses it, with no redeploy. Saves go through Temporal (TEMPORAL_ADDRESS); reads
go to the database (DATABASE_URL).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import ValidationError  # noqa: E402
from temporalio.client import Client, WorkflowFailureError  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from contract.agents import (  # noqa: E402
    AgentSaved,
    SaveAgentDefinition,
    agent_definition_workflow_id,
)
from contract.names import AGENT_DEFINITION_WORKFLOW, TASK_QUEUE  # noqa: E402
from memory.agents.models import AgentSpec, AgentVersion  # noqa: E402
from memory.agents.store import AgentDefinitions  # noqa: E402
from memory.core.config import Settings  # noqa: E402
from memory.core.db import create_engine  # noqa: E402
from memory.core.refs import AgentRef  # noqa: E402


async def save_definition(
    client: Client, request: SaveAgentDefinition, *, request_id: str | None = None, task_queue: str = TASK_QUEUE
) -> AgentSaved:
    """Save a version through its workflow. Raises WorkflowFailureError with the reason when
    the definition is refused; nothing is stored then."""
    request_id = request_id or uuid.uuid4().hex
    return await client.execute_workflow(
        AGENT_DEFINITION_WORKFLOW,
        request,
        id=agent_definition_workflow_id(request.agent, request_id),
        task_queue=task_queue,
        static_summary=f"Agent definition: {request.agent.agent_id} by {request.author}",
        result_type=AgentSaved,
    )


def describe(agent: AgentVersion) -> str:
    """A version as an operator reads it: the same text every time, so two versions diff cleanly."""
    spec = agent.spec.model_dump(mode="json", exclude={"instructions"})
    lines = [
        f"agent {agent.agent_id} v{agent.version}, {agent.created_at:%Y-%m-%d %H:%M} by {agent.author}"
        + (f": {agent.note}" if agent.note else ""),
        f"model: {agent.spec.model}" + (f" at {agent.spec.base_url}" if agent.spec.base_url else ""),
        f"tools: {', '.join(agent.tool_names()) or 'none'}",
        "definition:",
        *json.dumps(spec, indent=2, sort_keys=True).splitlines(),
        "instructions:",
        *agent.spec.instructions.splitlines(),
    ]
    return "\n".join(lines)


async def _with_store(action) -> int:
    settings = Settings.from_env()
    if not settings.database_url:
        print("error: DATABASE_URL is not set: it names the Postgres database of the memory stores", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        return await action(AgentDefinitions(engine))
    finally:
        await engine.dispose()


async def _read(args: argparse.Namespace) -> int:
    async def action(store: AgentDefinitions) -> int:
        if args.command == "list":
            for agent in await store.agents(args.tenant):
                print(f"{agent.agent_id:<24} v{agent.version:<4} {agent.spec.model:<40} {agent.created_at:%Y-%m-%d %H:%M}")
            return 0
        ref = AgentRef(tenant_id=args.tenant, agent_id=args.agent)
        if args.command == "history":
            versions = await store.history(ref)
            if not versions:
                print(f"agent {ref.agent_id} of tenant {ref.tenant_id} is not defined: it runs with the default definition")
            for v in versions:
                print(f"v{v.version:<4} {v.created_at:%Y-%m-%d %H:%M}  {v.author:<24} {v.spec.model:<32} {v.note}")
            return 0
        if args.command == "show":
            agent = await (store.get(ref, args.version) if args.version else store.current(ref))
            if agent is None:
                print(f"agent {ref.agent_id} of tenant {ref.tenant_id} has no such version", file=sys.stderr)
                return 1
            print(describe(agent))
            return 0
        old, new = await store.get(ref, args.old), await store.get(ref, args.new)
        if old is None or new is None:
            print(f"agent {ref.agent_id} has no version {args.old if old is None else args.new}", file=sys.stderr)
            return 1
        a, b = describe(old).splitlines()[1:], describe(new).splitlines()[1:]
        sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(a, b, f"v{old.version}", f"v{new.version}", lineterm=""))
        return 0

    return await _with_store(action)


async def _save(args: argparse.Namespace) -> int:
    raw = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
    request = SaveAgentDefinition(
        agent=AgentRef(tenant_id=args.tenant, agent_id=args.agent),
        spec=AgentSpec.model_validate_json(raw),
        author=args.author,
        note=args.note,
        based_on=args.based_on,
        create=args.command == "create",
    )
    client = await connect()
    try:
        saved = await save_definition(client, request, request_id=args.request_id, task_queue=args.task_queue)
    except WorkflowFailureError as err:
        print(f"error: {failure_reason(err)}", file=sys.stderr)
        return 1
    print(f"agent {saved.agent_id} v{saved.version} saved; tools: {', '.join(saved.tools) or 'none'}")
    return 0


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create", "update", "show", "list", "history", "diff"):
        p = sub.add_parser(name)
        p.add_argument("--tenant", required=True)
        if name != "list":
            p.add_argument("--agent", required=True)
        if name in ("create", "update"):
            p.add_argument("--author", required=True, help="who made the change (recorded with the version)")
            p.add_argument("--file", help="the definition as JSON; standard input when omitted")
            p.add_argument("--note", default="", help="why, for the history")
            p.add_argument("--request-id", help="resending with the same id does not save a second version")
            p.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
        if name == "update":
            p.add_argument("--based-on", type=int, help="refuse the update if the newest version is no longer this one")
        if name == "show":
            p.add_argument("--version", type=int)
        if name == "diff":
            p.add_argument("old", type=int)
            p.add_argument("new", type=int)
    args = parser.parse_args(argv)
    if args.command not in ("create", "update"):
        args.based_on = None
    try:
        if args.command in ("create", "update"):
            return await _save(args)
        return await _read(args)
    except ValidationError as err:
        return report_refused(err)
    except (OSError, UnicodeDecodeError) as err:
        print(f"error: cannot read the definition: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
