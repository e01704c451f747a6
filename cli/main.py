"""agent-memory: one command line for the runtime, over its HTTP API.

Every command imports only what it needs, so the tool starts fast; `--json` prints what the
API answered, as it answered it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.admin import register
from cli.agents import agents_app
from cli.archive import register as register_archive
from cli.forget import forget
from cli.output import Json, show, table
from cli.skills import register as register_skill_changes
from cli.switches import register as register_switches

app = typer.Typer(help="Talk to agents and operate their memory, through the HTTP API (or Temporal directly).", no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)
notebook_app = typer.Typer(help="The agent's notebook: what an operator holds authoritative.", no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)
skills_app = typer.Typer(help="The agent's skills, one per task type.", no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)
migrate_app = typer.Typer(help="Move the tenant to another embedding model.", no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)
docs_app = typer.Typer(help="Feed documents into the tenant's memory.", no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False)
app.add_typer(notebook_app, name="notebook")
app.add_typer(skills_app, name="skills")
register_skill_changes(skills_app)
app.add_typer(migrate_app, name="migrate")
app.add_typer(docs_app, name="documents")
app.add_typer(agents_app, name="agents")


@app.callback()
def options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="say whether the API or Temporal answered, and why")] = False,
) -> None:
    """Without AGENT_MEMORY_KEY, or with the API down, chat, turn, notebook edit and migrate status
    talk to Temporal directly (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, ...; AGENT_MEMORY_TENANT)."""
    from cli import route

    route.verbose = verbose


@app.command()
def chat(
    agent: str,
    thread: str,
    message: str,
    request_id: Annotated[Optional[str], typer.Option(help="a resend with the same id gets the same answer")] = None,
    project: str = "default",
    delegated: bool = False,
    user: Annotated[Optional[str], typer.Option(help="the end user of the thread (fixed by its first message)")] = None,
    stream: Annotated[bool, typer.Option(help="show the turn's progress while it runs")] = False,
    as_json: Json = False,
) -> None:
    """Send MESSAGE to AGENT in THREAD and print the reply with what the agent was shown."""
    from cli import direct, http
    from cli.route import api_or_temporal

    body = {"text": message, "request_id": request_id, "project": project, "delegated": delegated}
    if user is not None:
        body["user_id"] = user
    path = f"/v1/agents/{agent}/threads/{thread}/messages"
    sending = {"request_id": request_id, "project": project, "delegated": delegated, "user": user}
    if stream:
        from cli.progress import TurnProgressView

        with TurnProgressView(as_json) as view:
            api_or_temporal(
                lambda: view.follow(http.stream(path, body, unreachable_ok=True)),
                lambda: direct.chat_events(agent, thread, message, show=view.show, **sending),
            )
        if as_json:
            return
        result = view.reply
    else:
        result = api_or_temporal(
            lambda: http.call("POST", path, json_body=body, unreachable_ok=True),
            lambda: direct.chat(agent, thread, message, **sending),
        )

    agent_name = agent

    def render(turn) -> None:
        print(turn["reply"])
        agent = f"agent {agent_name} v{turn['agent_version']}, " if turn.get("agent_version") else ""
        print(f"\n-- turn {turn['turn']}, answered by {agent}{turn['provider']}/{turn['model']}")
        for item in turn["manifest"]:
            print(f"   {item['layer']:<21} {_ref(item):<26} {item['label']}")

    show(result, as_json, render)


def _ref(item: dict) -> str:
    """Where a manifest item lives: its layer and its source's key or id."""
    return f"{item['layer']}:{item.get('source_key') or item.get('source_id')}"


@app.command()
def turn(agent: str, thread: str, number: int, as_json: Json = False) -> None:
    """Show a turn's manifest (every item the agent was shown, with its layer) and usage."""
    from cli import direct, http
    from cli.route import api_or_temporal

    result = api_or_temporal(
        lambda: http.call("GET", f"/v1/agents/{agent}/threads/{thread}/turns/{number}", unreachable_ok=True),
        lambda: direct.latest_turn(agent, thread, number),
    )
    show(result, as_json, lambda t: table(
        f"turn {t['turn']} ({t['status']})", ["layer", "ref", "label"],
        [[i["layer"], _ref(i), i["label"]] for i in t["manifest"]],
    ))


@app.command()
def correct(agent: str, thread: str, tried: str, instead: str, as_json: Json = False) -> None:
    """Correct the agent in a running task: it tried TRIED, it should do INSTEAD."""
    from cli.http import call

    result = call("POST", f"/v1/agents/{agent}/threads/{thread}/corrections", json_body={"tried": tried, "instead": instead})
    show(result, as_json, lambda r: print(f"correction {r['correction_id']} applies to turn {r['applies_to_turn']}"))


@app.command()
def search(
    agent: str,
    query: str,
    layer: Annotated[Optional[list[str]], typer.Option(help="notebook, recall, graph or episodes (repeatable)")] = None,
    as_json: Json = False,
) -> None:
    """Search the agent's memory; every hit names the layer and source it came from."""
    from cli.http import call

    params = [("q", query)] + [("layers", name) for name in layer or []]
    result = call("GET", f"/v1/agents/{agent}/search", params=params)
    show(result, as_json, lambda r: table(
        f"{len(r['hits'])} hit(s) for {query!r}", ["layer", "source", "text"],
        [[h["layer"], h["source"], h["text"][:100]] for h in r["hits"]],
    ))


@notebook_app.command("show")
def notebookshow(agent: str, as_json: Json = False) -> None:
    from cli.http import call

    result = call("GET", f"/v1/agents/{agent}/notebook")
    show(result, as_json, lambda n: print(f"-- v{n['version']} by {n['author']}\n{n['content']}"))


@notebook_app.command("history")
def notebook_history(agent: str, as_json: Json = False) -> None:
    from cli.http import call

    result = call("GET", f"/v1/agents/{agent}/notebook/history")
    show(result, as_json, lambda vs: table(
        "notebook versions", ["version", "at", "author", "reason"],
        [[v["version"], v["created_at"][:16], v["author"], v["reason"]] for v in vs],
    ))


@notebook_app.command("remember")
def notebook_remember(agent: str, note: str, as_json: Json = False) -> None:
    """Add one note to the notebook (a new version, ingested into the graph)."""
    from cli.http import call

    result = call("POST", f"/v1/agents/{agent}/notebook/notes", json_body={"note": note})
    show(result, as_json, lambda r: print(f"notebook v{r['version']}; graph: {r['ingestion']['outcome']}"))


@notebook_app.command("edit")
def notebook_edit(agent: str, file: Path, reason: str = "", as_json: Json = False) -> None:
    """Replace the notebook with FILE's text (through the notebook's edit workflow)."""
    from cli import direct, http
    from cli.route import api_or_temporal

    content = file.read_text(encoding="utf-8")
    result = api_or_temporal(
        lambda: http.call(
            "PUT", f"/v1/agents/{agent}/notebook", json_body={"content": content, "reason": reason}, unreachable_ok=True
        ),
        lambda: direct.notebook_edit(agent, content, reason),
    )
    show(result, as_json, lambda r: print(f"notebook v{r['version']}; graph: {r['ingestion']['outcome']}"))


@skills_app.command("list")
def skills_list(agent: str, as_json: Json = False) -> None:
    from cli.http import call

    result = call("GET", f"/v1/agents/{agent}/skills")
    show(result, as_json, lambda ss: table(
        "skills", ["task type", "version", "author", "locked"],
        [[s["task_type"], s["version"], s["author"], s["locked"]] for s in ss],
    ))


@skills_app.command("show")
def skillsshow(agent: str, task_type: str, as_json: Json = False) -> None:
    from cli.http import call

    result = call("GET", f"/v1/agents/{agent}/skills/{task_type}")
    show(result, as_json, lambda s: print(f"-- {s['path']} v{s['version']} by {s['author']}\n{s['content']}"))


@app.command()
def usage(as_json: Json = False) -> None:
    """Model and embedding calls of the tenant, by action."""
    from cli.http import call

    result = call("GET", "/v1/usage")
    show(result, as_json, lambda rows: table(
        "usage", ["action", "calls", "input tokens", "output tokens"],
        [[r["action"], r["calls"], r["input_tokens"], r["output_tokens"]] for r in rows],
    ))


@docs_app.command("ingest")
def documents_ingest(files: list[Path], as_json: Json = False) -> None:
    """Upload text or markdown FILES; each is chunked into recall and the graph."""
    from cli.http import call

    accepted = [call("POST", "/v1/documents", json_body={"name": f.name, "text": f.read_text(encoding="utf-8")}) for f in files]
    show(accepted, as_json, lambda rows: [print(f"{r['document_id']}  {r['workflow_id']}") for r in rows])


@docs_app.command("status")
def documents_status(document_id: str, as_json: Json = False) -> None:
    from cli.http import call

    result = call("GET", f"/v1/documents/{document_id}")
    show(result, as_json, lambda p: print(
        f"{p['name']}: {p['chunks']} chunks, {p['episodes_ingested']}/{p['episodes_queued']} episodes; graph {p['graph_outcome']}"
    ))


@migrate_app.command("start")
def migrate_start(to_model: str, as_json: Json = False) -> None:
    from cli.http import call

    show(call("POST", "/v1/migrations", json_body={"to_model": to_model}), as_json, lambda r: print(f"started {r['workflow_id']}"))


@migrate_app.command("status")
def migrate_status(watch: bool = False, as_json: Json = False) -> None:
    """The running migration's progress; --watch shows a progress bar until it ends."""
    from cli import direct, http
    from cli.route import api_or_temporal

    def call(method: str, path: str):
        return api_or_temporal(lambda: http.call(method, path, unreachable_ok=True), direct.migration_status)

    progress = call("GET", "/v1/migrations/current")
    if not watch or as_json:
        show(progress, as_json, lambda p: print(f"{p['phase']}: {p['rows_done']}/{p['total_rows']} rows"))
        return
    import time

    from rich.progress import Progress

    with Progress() as bar:
        task = bar.add_task(f"{progress['from_model']} -> {progress['to_model']}", total=progress["total_rows"] or 1)
        while progress["phase"] not in ("done", "cancelled"):
            bar.update(task, completed=progress["rows_done"], total=progress["total_rows"] or 1)
            time.sleep(1)
            progress = call("GET", "/v1/migrations/current")
        bar.update(task, completed=progress["total_rows"] or 1)


def _steer(action: str) -> None:
    from cli.http import call

    call("POST", f"/v1/migrations/current/{action}")
    print(f"{action} sent")


@migrate_app.command("pause")
def migrate_pause() -> None:
    _steer("pause")


@migrate_app.command("resume")
def migrate_resume() -> None:
    _steer("resume")


@migrate_app.command("cancel")
def migrate_cancel() -> None:
    _steer("cancel")


register(app)
app.command()(forget)
register_switches(app)
register_archive(app)


def run() -> None:
    app()


if __name__ == "__main__":
    run()
