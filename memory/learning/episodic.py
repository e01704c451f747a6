"""Episodic memory: one row per exchange, its summary and its compressed transcript.

Retrieval answers "have I done this before" (full-text match on the summary, weighted
by recency) and "what failed last time" (the same, filtered on the outcome). Past the
retention horizon the transcript is dropped; the summary is kept for good.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import extract, func, literal_column, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import episodes
from memory.core.tokens import estimate_tokens
from memory.prompt.manifest import ContextItem, Layer


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CORRECTED = "corrected"


class EpisodeRecord(BaseModel):
    thread: ThreadRef
    turn: int = Field(ge=1)
    # Aware only: a naive time would be read in the database session's zone.
    occurred_at: AwareDatetime
    outcome: Outcome
    task_type: str = Field(default="general", min_length=1, max_length=64)
    tools_used: list[str]
    transcript: str
    summary: str


class StoredEpisode(BaseModel):
    id: int
    thread: ThreadRef
    turn: int
    occurred_at: datetime
    outcome: Outcome
    task_type: str
    tools_used: list[str]
    summary: str
    # None once retention has cut the episode down to its summary.
    transcript: str | None
    truncated: bool
    score: float | None = None

    def context_item(self) -> ContextItem:
        # The summary is what goes into the prompt; the transcript stays in the store.
        return ContextItem(
            layer=Layer.EPISODIC,
            source_id=self.id,
            source_time=self.occurred_at,
            label=f"episode: thread {self.thread.thread_id}, turn {self.turn} ({self.outcome.value})",
            score=None if self.score is None else round(self.score, 4),
            tokens=estimate_tokens(self.summary),
        )


_FAILURE_OUTCOMES = frozenset({Outcome.FAILED, Outcome.CORRECTED})
_GAP = r"(?:\W+\w+){0,4}?\W+"
# Questions about how past work went, not any text that mentions a mistake: "what failed
# last time", "what went wrong", "did I make a mistake", "which errors did we hit",
# "any errors?", "errors in the previous run". "How do I fix this error", "I made a
# mistake in the address, change it" and "what is wrong with this code" do not ask for
# past failures and see every episode.
_ASKS_ABOUT_FAILURE = (
    re.compile(rf"\bwhat{_GAP}(?:fail\w*|went wrong|go(?:es)? wrong|gone wrong|broke)\b", re.IGNORECASE),
    re.compile(rf"\b(?:did|has|have|had){_GAP}(?:fail\w*|go wrong|gone wrong|break|broke|mistakes?)\b", re.IGNORECASE),
    re.compile(r"\b(?:what|which) (?:mistakes?|errors?|failures?|corrections?)\b", re.IGNORECASE),
    re.compile(r"^\W*(?:any|were there(?: any)?)\W+(?:errors?|failures?|mistakes?)\W*$", re.IGNORECASE),
    re.compile(
        r"\b(?:fail\w*|errors?|mistakes?|went wrong)\b.*\b(?:last|previous|earlier) (?:time|attempts?|runs?|tries)\b"
        r"|\b(?:last|previous|earlier) (?:time|attempts?|runs?|tries)\b.*\b(?:fail\w*|errors?|mistakes?|went wrong)\b",
        re.IGNORECASE,
    ),
)


def outcome_filter(query: str) -> set[Outcome] | None:
    """The outcomes a query asks about: a question about what failed or went wrong before
    looks only at episodes that failed or were corrected; anything else, including text
    that merely mentions an error, looks at all of them."""
    return set(_FAILURE_OUTCOMES) if any(p.search(query) for p in _ASKS_ABOUT_FAILURE) else None


# The index on summaries is on to_tsvector('english', summary): the configuration must be
# this literal, not a bound parameter, or the planner cannot use the index.
_ENGLISH = literal_column("'english'::regconfig")
_SUMMARY_VECTOR = func.to_tsvector(_ENGLISH, episodes.c.summary)
# A long query (a whole user message) would make a long OR of terms; the first distinct
# words carry the request well enough and keep the rank cheap.
_MAX_QUERY_WORDS = 48


def any_word_query(query: str) -> str:
    """The query as websearch_to_tsquery input matching any one of its words.

    Only plain words are passed on, so quotes and minus signs in the user's text are not
    read as operators; Postgres itself stems them and drops stop words.
    """
    words: list[str] = []
    for word in re.findall(r"\w+", query.lower()):
        if word != "or" and word not in words:
            words.append(word)
    return " or ".join(words[:_MAX_QUERY_WORDS])


def _compress(transcript: str) -> bytes:
    return zlib.compress(transcript.encode("utf-8"))


def _stored(row, score: float | None = None) -> StoredEpisode:
    blob = row["transcript"]
    return StoredEpisode(
        id=row["id"],
        thread=ThreadRef(
            tenant_id=row["tenant_id"], agent_id=row["agent_id"], thread_id=row["thread_id"], user_id=row["user_id"]
        ),
        turn=row["turn"],
        occurred_at=row["occurred_at"],
        outcome=row["outcome"],
        task_type=row["task_type"],
        tools_used=row["tools_used"],
        summary=row["summary"],
        transcript=None if blob is None else zlib.decompress(blob).decode("utf-8"),
        truncated=row["truncated_at"] is not None,
        score=score,
    )


def _owned_by(agent: AgentRef):
    return episodes.c.tenant_id == agent.tenant_id, episodes.c.agent_id == agent.agent_id


async def truncate_batch(conn: AsyncConnection, cutoff: datetime, *, after_id: int = 0, limit: int) -> dict[int, str]:
    """Cut up to `limit` episodes older than the cutoff, with ids above `after_id`, down to
    their summaries, in the caller's transaction (so retention can count them in the same
    commit). Returns the tenant of each episode cut, by id."""
    due = (
        select(episodes.c.id)
        .where(episodes.c.id > after_id, episodes.c.occurred_at < cutoff, episodes.c.truncated_at.is_(None))
        .order_by(episodes.c.id)
        .limit(limit)
        .with_for_update()
        .scalar_subquery()
    )
    rows = await conn.execute(
        update(episodes)
        .where(episodes.c.id.in_(due))
        # transcript_chars stays: how much was there is still worth knowing.
        .values(transcript=None, truncated_at=func.now())
        .returning(episodes.c.id, episodes.c.tenant_id)
    )
    return {episode_id: tenant_id for episode_id, tenant_id in rows}


def _position(agent: AgentRef):
    """Where an episode falls in its agent's span of episodes: 0 the first, 1 the latest
    (1 when the agent has one episode, or all at one moment)."""
    span = (
        select(func.min(episodes.c.occurred_at).label("first"), func.max(episodes.c.occurred_at).label("last"))
        .where(*_owned_by(agent))
        .subquery()
    )
    first = select(span.c.first).scalar_subquery()
    last = select(span.c.last).scalar_subquery()
    elapsed = extract("epoch", episodes.c.occurred_at - first)
    return func.coalesce(elapsed / func.nullif(extract("epoch", last - first), 0), 1.0)


class EpisodicMemory:
    def __init__(self, engine: AsyncEngine, *, recency_weight: float = 0.1):
        if not 0.0 <= recency_weight <= 1.0:
            raise ValueError("recency_weight must be between 0 and 1")
        self._engine = engine
        self._recency_weight = recency_weight

    async def record(self, rec: EpisodeRecord, *, idempotency_key: str) -> StoredEpisode:
        """Record an episode once per key: a retry returns the row already stored."""
        thread = rec.thread
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(episodes)
                .values(
                    tenant_id=thread.tenant_id,
                    agent_id=thread.agent_id,
                    thread_id=thread.thread_id,
                    user_id=thread.user_id,
                    turn=rec.turn,
                    occurred_at=rec.occurred_at,
                    task_type=rec.task_type,
                    outcome=rec.outcome.value,
                    tools_used=rec.tools_used,
                    summary=rec.summary,
                    transcript=_compress(rec.transcript),
                    transcript_chars=len(rec.transcript),
                    idempotency_key=idempotency_key,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                (await conn.execute(select(episodes).where(episodes.c.idempotency_key == idempotency_key)))
                .mappings()
                .one()
            )
        return _stored(row)

    async def search(
        self,
        agent: AgentRef,
        query: str,
        *,
        outcomes: set[Outcome] | None = None,
        limit: int = 3,
        exclude_thread: str | None = None,
        user_id: str | None = None,
    ) -> list[StoredEpisode]:
        """The agent's past episodes most like the query, best first.

        Score: the full-text rank of the summary times 1 + w * position, where position is
        where the episode falls in the agent's own span of episodes (0 the first, 1 the
        latest) and w the recency weight (0.1). Recency is a bounded tie-breaker: a better
        match months earlier is not buried under a weaker one from the latest session, and
        an agent idle for a year ranks as it did. With outcomes given and
        no summary sharing a word with the query, the most recent episodes with those
        outcomes answer instead, unscored: "what failed last time" rarely names the task.
        """
        if limit < 1:
            return []
        # Agent-wide episodes, and the user's own: never another user's.
        filters = [*_owned_by(agent), or_(episodes.c.user_id.is_(None), episodes.c.user_id == user_id)]
        if outcomes:
            filters.append(episodes.c.outcome.in_(sorted(o.value for o in outcomes)))
        if exclude_thread is not None:
            # The thread's own episodes are already in its tail and summary.
            filters.append(episodes.c.thread_id != exclude_thread)

        found: list[StoredEpisode] = []
        terms = any_word_query(query)
        async with self._engine.connect() as conn:
            if terms:
                tsquery = func.websearch_to_tsquery(_ENGLISH, terms)
                score = (func.ts_rank(_SUMMARY_VECTOR, tsquery) * (1.0 + self._recency_weight * _position(agent))).label(
                    "score"
                )
                rows = (
                    await conn.execute(
                        select(episodes, score)
                        .where(*filters, _SUMMARY_VECTOR.op("@@")(tsquery))
                        .order_by(score.desc(), episodes.c.occurred_at.desc(), episodes.c.id.desc())
                        .limit(limit)
                    )
                ).mappings()
                found = [_stored(r, float(r["score"])) for r in rows]
            if not found and outcomes:
                rows = (
                    await conn.execute(
                        select(episodes)
                        .where(*filters)
                        .order_by(episodes.c.occurred_at.desc(), episodes.c.id.desc())
                        .limit(limit)
                    )
                ).mappings()
                found = [_stored(r) for r in rows]
        return found

    async def by_id(self, agent: AgentRef, ids: list[int]) -> list[StoredEpisode]:
        """The agent's episodes among `ids`, in the order asked; others' ids are ignored."""
        if not ids:
            return []
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(episodes).where(*_owned_by(agent), episodes.c.id.in_(ids)))).mappings()
            by_id = {r["id"]: _stored(r) for r in rows}
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    async def truncate_before(self, cutoff: datetime, *, batch_size: int = 1000) -> dict[str, int]:
        """Drop the transcripts of episodes that occurred before the cutoff, keeping their
        summaries; how many were cut, per tenant. Already-truncated episodes are not counted."""
        counts: Counter[str] = Counter()
        after_id = 0
        while True:
            async with self._engine.begin() as conn:
                cut = await truncate_batch(conn, cutoff, after_id=after_id, limit=batch_size)
            if not cut:
                return dict(counts)
            counts.update(cut.values())
            after_id = max(cut)
