"""Provenance: what was placed into the model's context, and where it came from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Layer(StrEnum):
    NOTEBOOK = "notebook"
    RECALL = "recall"
    CONVERSATION_SUMMARY = "conversation_summary"
    CONVERSATION_MESSAGE = "conversation_message"


class ContextItem(BaseModel, frozen=True):
    """One item of context, by reference: the text itself stays in its store."""

    layer: Layer
    source_id: int
    source_time: datetime
    # Where a human finds it: "thread t1, turn 3", "/notebook.md v4".
    label: str
    score: float | None = None
    tokens: int = 0

    @property
    def ref(self) -> str:
        return f"{self.layer.value}:{self.source_id}"
