"""Provenance: what was placed into the model's context, and where it came from."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Layer(StrEnum):
    NOTEBOOK = "notebook"
    GRAPH = "graph"
    RECALL = "recall"
    CONVERSATION_SUMMARY = "conversation_summary"
    CONVERSATION_MESSAGE = "conversation_message"
    EPISODIC = "episodic"
    PROCEDURAL = "procedural"


class ContextItem(BaseModel, frozen=True):
    """One item of context, by reference: the text itself stays in its store."""

    layer: Layer
    # Postgres rows are named by id; graph facts by their edge uuid (source_key).
    source_id: int | None = None
    source_key: str | None = None
    source_time: datetime
    # Where a human finds it: "thread t1, turn 3", "/notebook.md v4".
    label: str
    score: float | None = None
    tokens: int = 0
    # Graph facts: since when the fact holds, and the episode it was extracted from.
    valid_at: datetime | None = None
    source_episode: str | None = None
    # Recall: how the item was found ("vector", "lexical" or "both").
    found_by: str | None = None
    # Recall and episodes: the newer notebook line or graph fact this item contradicts
    # (memory/recall/superseded.py); None when nothing newer says otherwise.
    superseded_by: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.layer.value}:{self.source_key if self.source_id is None else self.source_id}"
