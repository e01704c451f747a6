"""The graph layer's boundary types: what goes in (episodes), what comes out (facts)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from memory.core.validation import ID_PATTERN

# Fixed forever: changing it would give every retried episode a new uuid, and the
# graph would ingest it twice.
_EPISODE_NAMESPACE = uuid.UUID("454a2b16-4123-4b76-83b4-3976f1a7ae8d")

EpisodeSource = Literal["conversation", "notebook", "document"]


def episode_uuid(idempotency_key: str) -> str:
    """The episode uuid for an idempotency key: the same key always names the same episode."""
    if not idempotency_key:
        raise ValueError("idempotency key is empty")
    return str(uuid.uuid5(_EPISODE_NAMESPACE, idempotency_key))


class GraphFact(BaseModel):
    uuid: str
    fact: str
    relation: str
    source_entity: str
    target_entity: str
    valid_at: datetime | None
    invalid_at: datetime | None
    expired_at: datetime | None
    created_at: datetime
    episodes: list[str]
    score: float | None = None

    def is_current(self, now: datetime) -> bool:
        """Still true as of now: not superseded, and not ended."""
        return self.expired_at is None and (self.invalid_at is None or self.invalid_at > now)


class GraphEpisode(BaseModel):
    uuid: str = Field(min_length=1)
    group_id: str = Field(pattern=ID_PATTERN.pattern)
    name: str = Field(min_length=1)
    body: str = Field(min_length=1)
    source: EpisodeSource
    source_description: str
    # Aware, because graphiti orders facts by it and a naive time has no order against UTC.
    reference_time: AwareDatetime


class GraphCall(BaseModel):
    kind: Literal["llm", "embedding", "rerank"]
    purpose: str
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0


class IngestOutcome(BaseModel):
    episode_uuid: str
    already_present: bool
    entities: int
    edges: int
    invalidated: int
    calls: list[GraphCall]


class GraphSearchResult(BaseModel):
    facts: list[GraphFact]
    anchors: list[str]
    short_circuited: bool
    calls: list[GraphCall]


class ReembedBatch(BaseModel):
    """One batch of a graph's move to another embedding model, written to shadow properties."""

    entities: int
    facts: int
    # Pass as `after` for the next batch; None once the pass has reached the end.
    last_key: str | None
    calls: list[GraphCall]
