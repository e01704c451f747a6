"""Hybrid recall search: Postgres full-text and the fenced vector search, fused by rank.

Each leg finds its own candidates, and the two lists are fused (FusionMethod): by
relative score (the default: each leg's scores scaled to 0..1, then a weighted sum) or
by reciprocal rank (RRF: 1 / (k + rank) per leg). Either way an item
both legs agree on rises, and an exact identifier the vector ranks low ("order
88231-B") still arrives through the words it shares.

Both legs hold the same scope: the tenant, the agent's exchanges (or the tenant's
documents), and the fence: an item counts only once it has a vector of the tenant's
current model, so during a migration neither leg sees rows the other cannot.

The score reported per item is the fused score divided by the best possible one (top of
both legs), so 1.0 means "top of both" and 0.5 (equal weights) "top of one".
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from memory.learning.episodic import any_word_query


class RetrievalMode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    LEXICAL = "lexical"


class FusionMethod(StrEnum):
    # Reciprocal rank fusion: sum of weight / (k + rank); blind to how far ahead an item is.
    RRF = "rrf"
    # Relative score fusion: each leg's scores scaled to 0..1 (BM25 by its best candidate,
    # cosine similarity from the leg's worst to its best candidate), then a weighted sum: a
    # rare identifier that BM25 puts far ahead stays ahead.
    RELATIVE = "relative"


class FoundBy(StrEnum):
    VECTOR = "vector"
    LEXICAL = "lexical"
    BOTH = "both"


class FusionSettings(BaseModel, frozen=True):
    mode: RetrievalMode = RetrievalMode.HYBRID
    method: FusionMethod = FusionMethod.RELATIVE
    # RRF's k: larger flattens the difference between ranks 1 and 10 of one leg.
    rrf_k: int = Field(default=60, ge=1)
    # Chosen on LoCoMo's development conversations (bench/locomo.py, README "Benchmark"):
    # a wide vector list lets an item both legs found rise; a static embedder's cosine
    # ranks many near-misses together, so its leg weighs under a third of BM25's.
    vector_candidates: int = Field(default=100, ge=1, le=1000)
    lexical_candidates: int = Field(default=100, ge=1, le=1000)
    # A leg's weight in the fused sum; 1.0 each is plain RRF.
    vector_weight: float = Field(default=0.3, ge=0.0)
    lexical_weight: float = Field(default=1.0, ge=0.0)


# Okapi BM25's constants, the usual ones.
BM25_K1 = 1.2
BM25_B = 0.75


@functools.lru_cache(maxsize=64)
def lexical_sql(model_literal: str) -> str:
    """The lexical leg: Okapi BM25 over Postgres full-text lexemes, in the same scope and
    fence as the vector leg.

    Postgres' own ts_rank knows no inverse document frequency, so a name that is in half
    of a conversation's turns weighs as much as the one rare word the question hinges on.
    Here the GIN index finds the items sharing any query lexeme; each lexeme's document
    frequency is counted over the tenant's items (one index lookup per lexeme), and each
    candidate is scored sum(idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avglen)))
    with len its lexeme count and avglen the candidates' mean. Its rows are ids and ranks:
    the items themselves are read once the legs are fused.
    """
    scope = """
        i.tenant_id = :tenant_id
        AND (
          (i.source_type = 'exchange' AND i.agent_id = :agent_id AND i.thread_id <> :exclude_thread_id
           AND (i.user_id IS NULL OR i.user_id = :user_id))
          OR i.source_type = 'document'
        )"""
    return f"""
    WITH q AS MATERIALIZED (
        SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', :query))
    ),
    df AS MATERIALIZED (
        SELECT q.lexeme,
               (SELECT count(*) FROM recall_items d
                WHERE d.tenant_id = :tenant_id AND d.text_search @@ quote_literal(q.lexeme)::tsquery) AS df
        FROM q
    ),
    n AS MATERIALIZED (SELECT count(*) AS n FROM recall_items d WHERE d.tenant_id = :tenant_id),
    candidates AS MATERIALIZED (
        SELECT i.id, i.text_search AS doc
        FROM recall_items i
        WHERE {scope}
          AND i.text_search @@ websearch_to_tsquery('english', :terms)
          AND EXISTS (
            SELECT 1 FROM recall_embeddings e
            WHERE e.item_id = i.id AND e.tenant_id = :tenant_id AND e.embedding_model = {model_literal}
          )
    ),
    avglen AS MATERIALIZED (SELECT greatest(avg(length(doc)), 1) AS avglen FROM candidates)
    SELECT c.id,
           (SELECT coalesce(sum(
                     ln(1 + (n.n - df.df + 0.5) / (df.df + 0.5))
                     * cardinality(u.positions) * ({BM25_K1} + 1)
                     / (cardinality(u.positions)
                        + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * length(c.doc) / avglen.avglen))),
                   0)
            -- An item matched through a word the query's own lexemes lack scores 0.
            FROM unnest(c.doc) AS u JOIN df ON df.lexeme = u.lexeme) AS rank
    FROM candidates c CROSS JOIN n CROSS JOIN avglen
    ORDER BY rank DESC, c.id DESC
    LIMIT :limit
    """


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
    """The two legs fused, best first, each score scaled so 1.0 is the best possible (first,
    or the best score, in both legs); ties go to the vector's similarity."""
    fused: dict[int, float] = {}
    rows: dict[int, dict[str, Any]] = {}
    legs: dict[int, set[str]] = {}
    similarity: dict[int, float] = {}
    for leg, weight, ranked, column in (
        ("vector", settings.vector_weight, vector_rows, "score"),
        ("lexical", settings.lexical_weight, lexical_rows, "rank"),
    ):
        for item_id, contribution in _contributions(ranked, column, weight, settings, from_worst=leg == "vector"):
            fused[item_id] = fused.get(item_id, 0.0) + contribution
        for row in ranked:
            item_id = row["id"]
            rows.setdefault(item_id, {k: v for k, v in row.items() if k not in ("score", "rank")})
            legs.setdefault(item_id, set()).add(leg)
            if leg == "vector":
                similarity[item_id] = float(row["score"])
    total_weight = settings.vector_weight + settings.lexical_weight
    best = (total_weight / (settings.rrf_k + 1) if settings.method == FusionMethod.RRF else total_weight) or 1.0
    order = sorted(fused, key=lambda i: (-fused[i], -similarity.get(i, -2.0), -i))[:limit]
    return [
        Fused(
            row=rows[i],
            score=fused[i] / best,
            found_by=FoundBy.BOTH if len(legs[i]) == 2 else FoundBy(next(iter(legs[i]))),
        )
        for i in order
    ]


def _contributions(
    ranked: list[Mapping[str, Any]], column: str, weight: float, settings: FusionSettings, *, from_worst: bool
):
    """(item id, its share of the fused score) for one leg's candidates, best first."""
    if settings.method == FusionMethod.RRF:
        return [(row["id"], weight / (settings.rrf_k + rank)) for rank, row in enumerate(ranked, start=1)]
    scores = [float(row[column]) for row in ranked]
    if not scores:
        return []
    best = max(scores)
    # BM25 is scaled by its best candidate alone: the weakest candidate still counts for
    # what it matched. Cosine similarities crowd together (a question's 100 nearest turns
    # may all lie between 0.6 and 0.75), so dividing by the best would give every vector
    # candidate about 0.9 and let near-misses outrank the words the question hinges on;
    # that leg is scaled from its worst candidate (0) to its best (1).
    low = min(scores) if from_worst else 0.0
    span = best - low
    # One vector candidate (or all alike) is the leg's best; a BM25 best of 0 matched nothing.
    flat = 1.0 if from_worst else 0.0
    return [
        (row["id"], weight * (max(0.0, s - low) / span if span > 0 else flat)) for row, s in zip(ranked, scores, strict=True)
    ]
