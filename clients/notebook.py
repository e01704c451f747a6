"""Show, edit and audit an agent's notebook: the authoritative memory an operator controls.

    uv run python clients/notebook.py show --tenant acme --agent support
    uv run python clients/notebook.py edit --tenant acme --agent support --operator alice --file notebook.md
    echo "Dana Smith works at Acme Industries." | \\
        uv run python clients/notebook.py edit --tenant acme --agent support --operator alice --reason "company name"
    uv run python clients/notebook.py history --tenant acme --agent support

An edit replaces the notebook with a new version (nothing is overwritten) and is then
ingested into the knowledge graph, so that extracted facts it contradicts are invalidated.
Reads go to the database (DATABASE_URL); edits go through Temporal (TEMPORAL_ADDRESS).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import ValidationError  # noqa: E402
from temporalio.client import WorkflowFailureError  # noqa: E402

from clients.connect import connect, failure_reason  # noqa: E402
from clients.refused import report_refused  # noqa: E402
from clients.stdin import read_stdin_text  # noqa: E402
from contract.ingestion import NotebookEdit, NotebookEditResult, notebook_edit_id  # noqa: E402
from contract.names import (
    NOTEBOOK_EDIT_WORKFLOW,  # noqa: E402
    TASK_QUEUE,  # noqa: E402
)
from memory.core.config import Settings  # noqa: E402
from memory.core.db import create_engine  # noqa: E402
from memory.core.refs import AgentRef  # noqa: E402
from memory.core.validation import InvalidInput, check_storable  # noqa: E402
from memory.documents.notebook import NOTEBOOK_PATH, check_notebook_text  # noqa: E402
from memory.documents.path_store import DocumentStore  # noqa: E402


async def _with_store(action):
    settings = Settings.from_env()
    if not settings.database_url:
        print("error: DATABASE_URL is not set: it names the Postgres database of the memory stores", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        return await action(DocumentStore(engine))
    finally:
        await engine.dispose()


async def show(agent: AgentRef) -> int:
    async def action(store: DocumentStore) -> int:
        latest = await store.latest(agent, NOTEBOOK_PATH)
        if latest is None:
            print(f"agent {agent.agent_id} of tenant {agent.tenant_id} has no notebook yet")
            return 0
        print(f"-- {NOTEBOOK_PATH} v{latest.version}, {latest.created_at:%Y-%m-%d %H:%M} by {latest.author}")
        print(latest.content)
        return 0

    return await _with_store(action)


async def history(agent: AgentRef) -> int:
    async def action(store: DocumentStore) -> int:
        versions = await store.history(agent, NOTEBOOK_PATH)
        if not versions:
            print(f"agent {agent.agent_id} of tenant {agent.tenant_id} has no notebook yet")
        for v in versions:
            first_line = v.content.strip().splitlines()[0][:70] if v.content.strip() else ""
            print(f"v{v.version:<4} {v.created_at:%Y-%m-%d %H:%M}  {v.author:<24} {v.reason:<20} {first_line}")
        return 0

    return await _with_store(action)


async def edit(agent: AgentRef, content: str, operator: str, reason: str, request_id: str, task_queue: str) -> int:
    edit_request = NotebookEdit(agent=agent, content=content, operator=operator, reason=reason, request_id=request_id)
    # The worker refuses these too; refusing them here spares the operator a round trip.
    check_notebook_text(content)
    check_storable("--operator", operator)
    check_storable("--reason", reason)
    client = await connect()
    try:
        result: NotebookEditResult = await client.execute_workflow(
            NOTEBOOK_EDIT_WORKFLOW,
            edit_request,
            id=notebook_edit_id(agent, request_id),
            task_queue=task_queue,
            static_summary=f"Notebook edit by operator {operator} for agent {agent.agent_id}",
            result_type=NotebookEditResult,
        )
    except WorkflowFailureError as err:
        print(f"error: {failure_reason(err)}", file=sys.stderr)
        return 1
    print(f"notebook v{result.version} saved for agent {agent.agent_id} of tenant {agent.tenant_id}")
    print(f"graph ingestion: {result.ingestion.outcome}: {result.ingestion.detail}")
    return 0


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("show", "edit", "history"):
        p = sub.add_parser(name)
        p.add_argument("--tenant", required=True)
        p.add_argument("--agent", required=True)
        if name == "edit":
            p.add_argument("--operator", required=True, help="who is making the edit (recorded as its author)")
            p.add_argument("--reason", default="", help="why, for the history")
            p.add_argument("--file", help="the new notebook text; standard input when omitted")
            p.add_argument("--request-id", help="resending with the same id does not add a second version")
            p.add_argument("--task-queue", default=os.environ.get("TASK_QUEUE", TASK_QUEUE))
    args = parser.parse_args(argv)
    try:
        agent = AgentRef(tenant_id=args.tenant, agent_id=args.agent)
        if args.command == "show":
            return await show(agent)
        if args.command == "history":
            return await history(agent)
        content = Path(args.file).read_text(encoding="utf-8") if args.file else read_stdin_text("nothing was changed")
        if not content.strip():
            print("error: the new notebook text is empty; nothing was changed", file=sys.stderr)
            return 2
        request_id = args.request_id or uuid.uuid4().hex
        return await edit(agent, content, args.operator, args.reason, request_id, args.task_queue)
    except (ValidationError, InvalidInput) as err:
        return report_refused(err)
    except (OSError, UnicodeDecodeError) as err:
        print(f"error: cannot read the new notebook text: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
