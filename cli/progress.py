"""`agent-memory chat --stream`: a turn's events as they happen, drawn with rich (a spinner
saying what runs now, a line for each step done); with --json, one JSON line per event."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any


class TurnProgressView:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.reply: dict | None = None
        self._error: dict | None = None
        self._console = self._status = None

    def __enter__(self) -> "TurnProgressView":
        if not self.as_json:
            from rich.console import Console

            self._console = Console(stderr=True)
            self._status = self._console.status("sending the message")
            self._status.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._status is not None:
            self._status.stop()
        if self._error is not None:
            print(f"error: {self._error['code']}: {self._error['message']}", file=sys.stderr)
            raise SystemExit(1)

    def follow(self, events: Iterable[tuple[str, Any]]) -> None:
        for name, data in events:
            self.show(name, data)

    def show(self, name: str, data: Any) -> None:
        if name == "reply":
            self.reply = data
        elif name == "error":
            self._error = data
        if self.as_json:
            print(json.dumps({"event": name, "data": data}, ensure_ascii=False), flush=True)
            return
        line, now = _describe(name, data)
        if line:
            self._console.print(line, highlight=False)
        self._status.update(now)


def _describe(name: str, data: dict) -> tuple[str | None, str]:
    """The line printed for an event, and what the spinner says runs next."""
    if name == "accepted":
        return "[green]✓[/] accepted", "reading memory"
    if name == "read":
        layers = ", ".join(f"{r['layer']} {r['items']}" for r in data["layers"]) or "no layer answered"
        return f"[green]✓[/] turn {data['turn']} read: {layers}", "calling the model"
    if name == "model_call":
        return f"[green]✓[/] model call {data['call']}", "model call running"
    if name == "tool":
        return f"[green]✓[/] tool: {data['call']}", "calling the model with the tool's result"
    return None, "done"
