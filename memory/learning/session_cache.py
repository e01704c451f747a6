"""The session-learning cache: "tried X, use Y instead", learned in a session, kept in Redis.

When a tool call fails and a retry succeeds, or a human corrects a command, the pair is
recorded here so the rest of the session does not repeat the mistake. Entries are keyed by
a context hash (tenant, agent, project) and the normalised command (memory/learning/command_form.py),
so spelling variants of a command find the same entry.

Storage is one Redis hash per session, `session-cache:{tenant}:{context_hash}:{session}`,
field = command key, value = the Substitution as JSON. Every record refreshes the hash's
expiry, so the TTL is per session, not per entry: a session's substitutions all live until
ttl_seconds after the session last learned something. A session that keeps learning keeps
what it learned early on; one that goes quiet forgets everything at once. A session holds
at most max_entries substitutions: recording one more evicts the oldest, so a session
that keeps failing on new commands cannot grow its hash (or its prompt block) without
bound. Nothing here moves an entry into long-term memory; that takes an explicit codify act.

Lookups and hits are counted per tenant (memory/core/metrics.py) and a sampled fraction of the
substitutions served is copied to the audit table, where an operator reviews them. Samples
are written in the background so a hit costs no database round trip; flush() (and close())
waits for them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

import redis.asyncio as redis
from pydantic import BaseModel, ValidationError, field_validator

from memory.core.metrics import SESSION_CACHE_HITS, SESSION_CACHE_LOOKUPS
from memory.core.refs import AgentRef
from memory.core.validation import InvalidInput, check_id
from memory.learning.command_form import CommandNormalizer

if TYPE_CHECKING:
    from memory.learning.cache_audit import CacheAudit

log = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 2000
MAX_PROJECT_CHARS = 100
MAX_NAME_CHARS = 200
# Audit samples being written at once; past this the database is behind and new samples
# are dropped rather than piling up in memory.
MAX_PENDING_AUDIT_WRITES = 100

Source = Literal["tool_recovery", "correction"]


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in text)


class SessionContext(AgentRef, frozen=True):
    """Whose session a lookup is for. Two contexts share entries only if all fields match."""

    project: str = "default"
    session_id: str

    @field_validator("session_id")
    @classmethod
    def _session(cls, value: str) -> str:
        return check_id("session", value)

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not 1 <= len(value) <= MAX_PROJECT_CHARS:
            raise InvalidInput(f"project must be 1-{MAX_PROJECT_CHARS} characters, got {len(value)}")
        if _has_control_characters(value):
            raise InvalidInput("project contains a control character")
        return value

    @property
    def context_hash(self) -> str:
        # NUL cannot occur in any of the parts, so distinct triples never join to one text.
        joined = "\x00".join((self.tenant_id, self.agent_id, self.project))
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:16]

    @property
    def redis_key(self) -> str:
        return f"session-cache:{self.tenant_id}:{self.context_hash}:{self.session_id}"


class Substitution(BaseModel):
    tried: str
    instead: str
    command_key: str
    source: Source
    tool: str | None = None
    operator: str | None = None
    recorded_at: datetime
    # When the session's entries expire as things stand; a later record pushes it out.
    expires_at: datetime


class CacheEntryNotFound(LookupError):
    def __init__(self, ctx: SessionContext, command: str):
        super().__init__(
            f"no session-cache entry for {command[:200]!r} in session {ctx.session_id} of tenant {ctx.tenant_id}: "
            "it expired or never existed"
        )


def _check_text(name: str, value: object, max_chars: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{name} is empty or whitespace only")
    if len(value) > max_chars:
        raise InvalidInput(f"{name} is {len(value)} characters; the limit is {max_chars}")
    if "\x00" in value:
        raise InvalidInput(f"{name} contains a NUL byte")
    return value


class SessionCache:
    def __init__(
        self,
        redis_url: str,
        *,
        ttl_seconds: int,
        normalizer: CommandNormalizer,
        audit: CacheAudit | None = None,
        audit_fraction: float = 0.0,
        rng: random.Random | None = None,
        max_entries: int = 50,
    ):
        if max_entries < 1:
            raise InvalidInput(f"max_entries must be at least 1, got {max_entries}")
        if ttl_seconds < 1:
            raise InvalidInput(f"ttl_seconds must be at least 1, got {ttl_seconds}")
        if not 0.0 <= audit_fraction <= 1.0:
            raise InvalidInput(f"audit_fraction must be between 0 and 1, got {audit_fraction}")
        if audit_fraction > 0.0 and audit is None:
            raise InvalidInput("audit_fraction is above 0 but no audit store was given")
        # A blocking pool: a burst of concurrent turns waits for a connection instead of
        # failing once the pool is exhausted.
        self._redis = redis.Redis(
            connection_pool=redis.BlockingConnectionPool.from_url(
                redis_url, decode_responses=True, max_connections=64, timeout=10
            )
        )
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._normalizer = normalizer
        self._audit = audit
        self._audit_fraction = audit_fraction
        self._rng = rng or random.Random()
        self._audit_writes: set[asyncio.Task[None]] = set()

    async def record(
        self,
        ctx: SessionContext,
        *,
        tried: str,
        instead: str,
        source: Source,
        tool: str | None = None,
        operator: str | None = None,
    ) -> Substitution:
        """Remember that `instead` works where `tried` did not; a later record for the same
        command replaces this one, since the newer correction is the one that worked last."""
        _check_text("tried", tried, MAX_COMMAND_CHARS)
        _check_text("instead", instead, MAX_COMMAND_CHARS)
        if tool is not None:
            _check_text("tool", tool, MAX_NAME_CHARS)
        if operator is not None:
            _check_text("operator", operator, MAX_NAME_CHARS)
        now = datetime.now(UTC)
        try:
            substitution = Substitution(
                tried=tried,
                instead=instead,
                command_key=self._normalizer.key(tried),
                source=source,
                tool=tool,
                operator=operator,
                recorded_at=now,
                expires_at=now + timedelta(seconds=self._ttl),
            )
        except ValidationError as err:
            raise InvalidInput(f"substitution refused: {err.errors()[0]['msg']}") from None
        key = ctx.redis_key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, substitution.command_key, substitution.model_dump_json())
            pipe.expire(key, self._ttl)
            pipe.hlen(key)
            *_, size = await pipe.execute()
        if size > self._max_entries:
            await self._evict_oldest(ctx, keep=substitution.command_key)
        # Who and how, not the commands: they can carry tokens or paths that do not belong in logs.
        log.info("session cache learned a substitution (tenant %s, agent %s, session %s, %s)",
                 ctx.tenant_id, ctx.agent_id, ctx.session_id, source)
        return substitution

    async def _evict_oldest(self, ctx: SessionContext, *, keep: str) -> None:
        stored = await self._redis.hgetall(ctx.redis_key)
        by_age = []
        for field, value in stored.items():
            entry = _parse(ctx, value, None)
            # An unreadable entry goes first; the one just recorded never goes.
            if field != keep:
                by_age.append((entry.recorded_at if entry else datetime.min.replace(tzinfo=UTC), field))
        surplus = len(stored) - self._max_entries
        if surplus > 0:
            oldest = [field for _, field in sorted(by_age)[:surplus]]
            await self._redis.hdel(ctx.redis_key, *oldest)
            log.info("session cache evicted %d oldest substitution(s) (tenant %s, session %s): the cap is %d",
                     len(oldest), ctx.tenant_id, ctx.session_id, self._max_entries)

    async def lookup(self, ctx: SessionContext) -> list[Substitution]:
        """Every live substitution of the session, ordered by command key so the prompt block
        built from them reads the same from turn to turn (and keeps the model's prompt cache)."""
        found = await self.entries(ctx)
        self._served(ctx, found, what="session")
        return found

    async def entries(self, ctx: SessionContext) -> list[Substitution]:
        """The session's substitutions as lookup returns them, for showing them to an operator:
        not counted as a lookup and never sampled for the audit."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(ctx.redis_key)
            pipe.pttl(ctx.redis_key)
            stored, pttl = await pipe.execute()
        expires_at = _expiry(pttl)
        found = [entry for value in stored.values() if (entry := _parse(ctx, value, expires_at)) is not None]
        return sorted(found, key=lambda entry: entry.command_key)

    async def live_sessions(self, tenant_id: str, agent_id: str, project: str = "default", limit: int = 200) -> list[str]:
        """Ids of the agent's sessions in `project` that still hold entries, for an operator's
        page; at most `limit`, sorted. A SCAN, so a large keyspace is walked without blocking."""
        probe = SessionContext(tenant_id=tenant_id, agent_id=agent_id, project=project, session_id="probe")
        prefix = probe.redis_key.removesuffix("probe")
        found: set[str] = set()
        async for key in self._redis.scan_iter(match=prefix + "*", count=500):
            found.add(key.removeprefix(prefix))
            if len(found) >= limit:
                break
        return sorted(found)

    async def lookup_command(self, ctx: SessionContext, command: str) -> Substitution | None:
        """The substitution for one command, matched by its normalised key."""
        entry = await self._fetch(ctx, self._normalizer.key(command))
        self._served(ctx, [] if entry is None else [entry], what="command")
        return entry

    async def get(self, ctx: SessionContext, command: str) -> Substitution:
        """One command's substitution, for acting on it (codify), not for serving it: not counted."""
        entry = await self._fetch(ctx, self._normalizer.key(command))
        if entry is None:
            raise CacheEntryNotFound(ctx, command)
        return entry

    async def ttl_seconds_left(self, ctx: SessionContext) -> int | None:
        """Seconds until the session's entries expire; None when it has none."""
        left = await self._redis.ttl(ctx.redis_key)
        return left if left >= 0 else None

    async def flush(self) -> None:
        """Wait until the audit samples taken so far are written (or have failed and been logged)."""
        while self._audit_writes:
            await asyncio.gather(*self._audit_writes)

    async def close(self) -> None:
        await self.flush()
        await self._redis.aclose()
        await self._redis.connection_pool.disconnect()

    async def _fetch(self, ctx: SessionContext, command_key: str) -> Substitution | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(ctx.redis_key, command_key)
            pipe.pttl(ctx.redis_key)
            value, pttl = await pipe.execute()
        return None if value is None else _parse(ctx, value, _expiry(pttl))

    def _served(self, ctx: SessionContext, entries: list[Substitution], *, what: str) -> None:
        SESSION_CACHE_LOOKUPS.labels(tenant=ctx.tenant_id).inc()
        log.debug("session cache %s lookup (tenant %s, agent %s, session %s)",
                  what, ctx.tenant_id, ctx.agent_id, ctx.session_id)
        if not entries:
            return
        SESSION_CACHE_HITS.labels(tenant=ctx.tenant_id).inc()
        log.info("session cache hit: %d substitution(s) served (tenant %s, agent %s, session %s)",
                 len(entries), ctx.tenant_id, ctx.agent_id, ctx.session_id)
        if self._audit is None:
            return
        sampled = [entry for entry in entries if self._rng.random() < self._audit_fraction]
        if not sampled:
            return
        if len(self._audit_writes) >= MAX_PENDING_AUDIT_WRITES:
            log.warning("session cache audit is behind (%d writes pending): %d sample(s) dropped (tenant %s)",
                        len(self._audit_writes), len(sampled), ctx.tenant_id)
            return
        # Written beside the turn, not in it: a database round trip per hit would cost the
        # lookup several times its own latency (see bench/session_cache.py).
        task = asyncio.create_task(self._write_audit(ctx, sampled))
        self._audit_writes.add(task)
        task.add_done_callback(self._audit_writes.discard)

    async def _write_audit(self, ctx: SessionContext, sampled: list[Substitution]) -> None:
        assert self._audit is not None
        try:
            await self._audit.write_many(ctx, sampled)
        except Exception:
            # The audit is a sample for later review; losing one is logged, never raised
            # into the turn that was served the substitutions.
            log.warning("session cache audit write failed (tenant %s, session %s)",
                        ctx.tenant_id, ctx.session_id, exc_info=True)


def _expiry(pttl_ms: int) -> datetime | None:
    return datetime.now(UTC) + timedelta(milliseconds=pttl_ms) if pttl_ms >= 0 else None


def _parse(ctx: SessionContext, value: str, expires_at: datetime | None) -> Substitution | None:
    try:
        entry = Substitution.model_validate_json(value)
    except ValidationError:
        # Written by something other than this module; skipping it beats failing the turn.
        log.warning("ignoring an unreadable session cache entry (tenant %s, session %s)",
                    ctx.tenant_id, ctx.session_id)
        return None
    # The stored expiry is the one at recording time; later records in the session moved it.
    return entry if expires_at is None else entry.model_copy(update={"expires_at": expires_at})
