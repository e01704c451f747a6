"""The agent's tool registry, as the workflow sees it: tool name -> activity.

Arguments are validated before anything runs; a bad call becomes an error result
the model can read, never a write.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.models import NotebookEditInput
    from activities.notebook import NotebookActivities
    from memory.llm.base import ToolCall, ToolResult
    from memory.notebook import MAX_NOTE_CHARS
    from memory.refs import ThreadRef
    from workflows.options import MEMORY_IO


class ToolRunner:
    def __init__(self, thread: ThreadRef, turn: int):
        self._thread = thread
        self._turn = turn
        self.calls: list[ToolCall] = []
        self.results: list[ToolResult] = []

    @property
    def used(self) -> list[str]:
        return [call.name for call in self.calls]

    async def run(self, call: ToolCall) -> None:
        if call.name == "notebook_edit":
            result = await self._notebook_edit(call)
        else:
            result = ToolResult(call_id=call.id, name=call.name, content=f"unknown tool {call.name!r}", is_error=True)
        self.calls.append(call)
        self.results.append(result)

    async def _notebook_edit(self, call: ToolCall) -> ToolResult:
        note = call.arguments.get("note")
        if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE_CHARS or "\x00" in note:
            return ToolResult(
                call_id=call.id,
                name=call.name,
                content=f"rejected: 'note' must be non-empty text of at most {MAX_NOTE_CHARS} characters",
                is_error=True,
            )
        try:
            edited = await workflow.execute_activity_method(
                NotebookActivities.edit,
                NotebookEditInput(thread=self._thread, turn=self._turn, call_id=call.id, note=note, author="agent"),
                summary=f"notebook: agent appends a note, turn {self._turn}",
                **MEMORY_IO,
            )
        except ActivityError as err:
            return ToolResult(call_id=call.id, name=call.name, content=f"failed: {err.cause}", is_error=True)
        return ToolResult(
            call_id=call.id, name=call.name, content=f"saved to /notebook.md as version {edited.version}"
        )
