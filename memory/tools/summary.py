"""One line per tool call for a turn's result: which tool, and what it was asked to do.

A tool name alone hides what ran: after a session learned a substitute command, the
model runs `ls -a` where it once ran `ls -z`, and both read "run_command".
"""

from __future__ import annotations

from typing import Any

MAX_SUMMARY_CHARS = 120
# Working memory never reaches a store, and the turn's result (with these lines) is stored:
# a scratch note is named, never quoted.
WORKING_MEMORY_TOOLS = frozenset({"scratch_note"})


def summarise_call(name: str, arguments: dict[str, Any]) -> str:
    """`run_command: ls -a`, `recall_search: query='invoices'`; long values are cut with "…"."""
    if name in WORKING_MEMORY_TOOLS:
        return name
    if name == "run_command" and isinstance(arguments.get("command"), str):
        detail = arguments["command"]
    else:
        detail = ", ".join(f"{key}={value!r}" for key, value in sorted(arguments.items()))
    detail = " ".join(detail.split())  # one line, however the arguments were spaced
    line = f"{name}: {detail}" if detail else name
    return line if len(line) <= MAX_SUMMARY_CHARS else line[: MAX_SUMMARY_CHARS - 1] + "…"
