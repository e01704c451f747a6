"""`agent-memory skills edit|lock|unlock`: an operator's changes to a skill, each run as a
workflow behind the API (the key's operator is recorded as the author)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.output import Json, show


def _changed(result: dict) -> None:
    state = "locked" if result["locked"] else "unlocked"
    print(f"{result['path']} v{result['version']} by {result['author']} ({state})")


def register(skills_app: typer.Typer) -> None:
    @skills_app.command("edit")
    def skills_edit(
        agent: str,
        task_type: str,
        file: Annotated[Path, typer.Argument(help="the skill's whole new text", exists=True, dir_okay=False)],
        lock: Annotated[bool, typer.Option(help="lock the skill too")] = False,
        as_json: Json = False,
    ) -> None:
        """Replace TASK_TYPE's skill of AGENT with the text of FILE (an operator's version)."""
        from cli.http import call

        body = {"content": file.read_text(encoding="utf-8"), "lock": lock}
        show(call("PUT", f"/v1/agents/{agent}/skills/{task_type}", json_body=body), as_json, _changed)

    @skills_app.command("lock")
    def skills_lock(agent: str, task_type: str, as_json: Json = False) -> None:
        """Lock a skill: from now on only an operator's edit changes it."""
        from cli.http import call

        show(call("POST", f"/v1/agents/{agent}/skills/{task_type}/lock"), as_json, _changed)

    @skills_app.command("unlock")
    def skills_unlock(agent: str, task_type: str, as_json: Json = False) -> None:
        """Unlock a skill: the agent's approved lessons may add to it again."""
        from cli.http import call

        show(call("POST", f"/v1/agents/{agent}/skills/{task_type}/unlock"), as_json, _changed)
