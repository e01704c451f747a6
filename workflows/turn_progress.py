"""What a running turn has got so far: the progress the turn_progress query shows callers
(workflow state only, no commands), and what the turn's failure record needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contract.conversation import LayerAnswer, TurnProgress, TurnStep
from memory.core.usage_entry import UsageEntry
from memory.prompt.manifest import ContextItem


@dataclass
class TurnSoFar:
    """How far a turn got, for the record of its failure."""

    manifest: list[ContextItem] = field(default_factory=list)
    assistant_id: int | None = None
    # What the turn's reads cost, billed with its record (completed or failed).
    billing: list[UsageEntry] = field(default_factory=list)
    # The agent version answering the turn, once known: a failed turn records it too.
    agent_version: int | None = None


class ProgressBoard:
    """The current (or last) turn's progress, as the turn_progress query answers it."""

    def __init__(self) -> None:
        self._current: TurnProgress | None = None

    @property
    def current(self) -> TurnProgress:
        return self._current or TurnProgress(turn=0, stage="idle")

    def begin(self, turn: int, request_id: str | None) -> None:
        self._current = TurnProgress(turn=turn, request_id=request_id)

    def show(self, **changes: Any) -> None:
        if self._current is not None:
            self._current = self._current.model_copy(update=changes)

    def step(self, kind: str, detail: str) -> None:
        if self._current is not None:
            self.show(stage=kind, steps=[*self._current.steps, TurnStep(kind=kind, detail=detail)])

    def layers_read(self, layers: list[Any]) -> None:
        self.show(stage="read", layers=[LayerAnswer(**layer.model_dump()) for layer in layers])
