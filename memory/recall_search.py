"""Hybrid recall search: Postgres full-text and the fenced vector search, fused by rank.

Each leg finds its own candidates; reciprocal rank fusion (RRF) adds 1 / (k + rank) per
leg an item appears in, so an item both legs agree on rises, and an exact identifier
the vector ranks low ("order 88231-B") still arrives through the words it shares.

Both legs hold the same scope: the tenant, the agent's exchanges (or the tenant's
documents), and the fence: an item counts only once it has a vector of the tenant's
current model, so during a migration neither leg sees rows the other cannot.

The score reported per item is the fused score divided by the best possible one (first
in both legs), so 1.0 means "top of both", 0.5 "top of one"; comparable across queries
in a way raw RRF sums are not.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import text

from memory.episodic import any_word_query


class RetrievalMode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    LEXICAL = "lexical"


class FoundBy(StrEnum):
    VECTOR = "vector"
    LEXICAL = "lexical"
    BOTH = "both"


class FusionSettings(BaseModel, frozen=True):
    mode: RetrievalMode = RetrievalMode.HYBRID
    # RRF's k: larger flattens the difference between ranks 1 and 10 of one leg.
    rrf_k: int = Field(default=60, ge=1)
    vector_candidates: int = Field(default=40, ge=1, le=1000)
    lexical_candidates: int = Field(default=40, ge=1, le=1000)
    # A leg's weight in the fused sum; 1.0 each is plain RRF.
    vector_weight: float = Field(default=1.0, ge=0.0)
    lexical_weight: float = Field(default=1.0, ge=0.0)


_COLUMNS = (
    "i.id, i.tenant_id, i.agent_id, i.thread_id, i.source_type, i.source_name, i.chunk_index, "
    "i.text, i.created_at, i.occurred_at"
)


def lexical_sql(model_literal: str) -> str:
    """The lexical leg: full-text match on the item text, ranked by ts_rank_cd normalised
    by document length (flag 1), in the same scope and fence as the vector leg."""
    return f"""
    SELECT {_COLUMNS},
           ts_rank_cd(to_tsvector('english', i.text), q.query, 1) AS rank
    FROM recall_items i, websearch_to_tsquery('english', :terms) AS q(query)
    WHERE i.tenant_id = :tenant_id
      AND to_tsvector('english', i.text) @@ q.query
      AND (
        (i.source_type = 'exchange' AND i.agent_id = :agent_id AND i.thread_id <> :exclude_thread_id)
        OR i.source_type = 'document'
      )
      AND EXISTS (
        SELECT 1 FROM recall_embeddings e
        WHERE e.item_id = i.id AND e.tenant_id = :tenant_id AND e.embedding_model = {model_literal}
      )
    ORDER BY rank DESC, i.id DESC
    LIMIT :limit
    """


@functools.lru_cache(maxsize=64)
def lexical_statement(model_literal: str):
    return text(lexical_sql(model_literal))


def query_terms(query: str) -> str:
    """The query as any-word websearch input (see memory.episodic.any_word_query)."""
    return any_word_query(query)


class Fused(BaseModel):
    row: dict[str, Any]
    score: float
    found_by: FoundBy


def fuse(
    vector_rows: list[Mapping[str, Any]],
    lexical_rows: list[Mapping[str, Any]],
    settings: FusionSettings,
    *,
    limit: int,
) -> list[Fused]:
    """Reciprocal rank fusion of the two legs, best first; ties go to the vector's similarity."""
    fused: dict[int, float] = {}
    rows: dict[int, dict[str, Any]] = {}
    legs: dict[int, set[str]] = {}
    similarity: dict[int, float] = {}
    for leg, weight, ranked in (
        ("vector", settings.vector_weight, vector_rows),
        ("lexical", settings.lexical_weight, lexical_rows),
    ):
        for rank, row in enumerate(ranked, start=1):
            item_id = row["id"]
            fused[item_id] = fused.get(item_id, 0.0) + weight / (settings.rrf_k + rank)
            rows.setdefault(item_id, {k: v for k, v in row.items() if k not in ("score", "rank")})
            legs.setdefault(item_id, set()).add(leg)
            if leg == "vector":
                similarity[item_id] = float(row["score"])
    best = (settings.vector_weight + settings.lexical_weight) / (settings.rrf_k + 1) or 1.0
    order = sorted(fused, key=lambda i: (-fused[i], -similarity.get(i, -2.0), -i))[:limit]
    return [
        Fused(
            row=rows[i],
            score=fused[i] / best,
            found_by=FoundBy.BOTH if len(legs[i]) == 2 else FoundBy(next(iter(legs[i]))),
        )
        for i in order
    ]
