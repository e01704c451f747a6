"""Moving a tenant's recall vectors to another embedding model, one step at a time.

New vectors are written beside the old ones, batch by batch, each batch idempotent; the
fence (tenants.embedding_model) switches with one compare-and-set once every item has a
vector of the new model, and can switch back until the old vectors are cleaned up.
Items written while a migration runs get the fence's model only: a last pass of batches
after the switch (next_batch from the last id seen) gives them the new model's vector.
"""

from __future__ import annotations

import hashlib
import math

from pydantic import BaseModel
from sqlalchemy import Text, and_, cast, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from memory.core.rate_limit import RateLimiter
from memory.core.schema import recall_embeddings, recall_items, tenants
from memory.core.tenants import TenantRegistry
from memory.core.usage import Action, UsageLedger
from memory.core.validation import InvalidInput, check_id
from memory.embedding.base import Embedder, EmbeddingModelId, EmbeddingRejected
from memory.recall.service import EmbedderPool
from memory.recall.store import ensure_index

# A re-embedded sample may differ from its stored vector by this cosine distance at most:
# float32 storage and providers' own jitter stay far below it, a different model far above.
VERIFY_MAX_DISTANCE = 0.01


class MigrationPlan(BaseModel):
    tenant_id: str
    from_model: str
    to_model: str
    total_rows: int


class BatchBounds(BaseModel):
    first_id: int
    last_id: int
    rows: int


class BatchResult(BaseModel):
    first_id: int
    last_id: int
    embedded: int
    already_present: int


class VerifyReport(BaseModel):
    total: int
    with_vector: int
    missing: int
    sampled: int
    max_distance: float
    ok: bool


def _has_vector(model: str):
    e = recall_embeddings.c
    return exists().where(e.item_id == recall_items.c.id, e.embedding_model == model)


def _cosine_distance(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / norm if norm else 1.0


class EmbeddingMigration:
    def __init__(
        self,
        engine: AsyncEngine,
        tenants: TenantRegistry,
        embedders: EmbedderPool,
        ledger: UsageLedger,
        *,
        requests_per_second: float = 20.0,
    ):
        self._engine = engine
        self._tenants = tenants
        self._embedders = embedders
        self._ledger = ledger
        self._limiter = RateLimiter(requests_per_second)

    def _embedder(self, model: str) -> Embedder:
        """The model's embedder; a model that is malformed or cannot be served is refused."""
        if not isinstance(model, str):
            raise InvalidInput(f"embedding model must be a string, got {type(model).__name__}")
        try:
            EmbeddingModelId.parse(model)
        except ValueError as err:
            raise InvalidInput(f"malformed model id: {err}") from None
        try:
            return self._embedders.get(model)
        except (ValueError, EmbeddingRejected) as err:
            raise InvalidInput(f"unknown model {model[:200]!r}: {err}") from None

    async def _bill(self, key: str, tenant_id: str, embedder: Embedder, rows) -> None:
        await self._ledger.record_embedding(
            key,
            tenant_id,
            Action.RECALL_EMBED_MIGRATION,
            provider=embedder.model_id.provider,
            model=str(embedder.model_id),
            texts=[row.text for row in rows],
        )

    async def _embed(self, embedder: Embedder, texts: list[str]) -> list[list[float]]:
        await self._limiter.acquire(embedder.model_id.provider)
        return await embedder.embed(texts, purpose="document")

    async def plan(self, tenant_id: str, to_model: str, *, rollback: bool = False) -> MigrationPlan:
        """What a migration will do; for a rollback (back to a model whose vectors were kept),
        only the items written since that lack its vector are counted."""
        check_id("tenant", tenant_id)
        self._embedder(to_model)
        # Not current_embedding_model, which registers a tenant it has not seen: a typo
        # would then be "migrated", with a tenants row and an empty graph to show for it.
        current = await self._tenants.known_embedding_model(tenant_id)
        if current is None:
            raise InvalidInput(f"unknown tenant {tenant_id}: it has no memory to migrate")
        if to_model == current:
            raise InvalidInput(f"tenant {tenant_id} is already on {to_model}")
        async with self._engine.connect() as conn:
            with_vector, total = await self._coverage(conn, tenant_id, to_model)
        if rollback:
            if total and not with_vector:
                raise InvalidInput(
                    f"cannot roll tenant {tenant_id} back to {to_model}: it has no vectors of that model "
                    f"(cleaned up, or never used); `migrate.py start --tenant {tenant_id} --to {to_model}` "
                    "migrates to it afresh"
                )
            total -= with_vector
        return MigrationPlan(tenant_id=tenant_id, from_model=current, to_model=to_model, total_rows=int(total))

    async def next_batch(self, tenant_id: str, *, after_id: int, size: int, lacking: str = "") -> BatchBounds | None:
        """The tenant's next `size` items by id after `after_id` (only those with no vector of
        `lacking`, when given: a rollback embeds what was written since); None when there are none."""
        check_id("tenant", tenant_id)
        if size < 1:
            raise InvalidInput(f"batch size must be at least 1, got {size}")
        wanted = [recall_items.c.tenant_id == tenant_id, recall_items.c.id > after_id]
        if lacking:
            wanted.append(~_has_vector(lacking))
        ids = (
            select(recall_items.c.id)
            .where(*wanted)
            .order_by(recall_items.c.id)
            .limit(size)
            .subquery()
        )
        async with self._engine.connect() as conn:
            first, last, rows = (await conn.execute(select(func.min(ids.c.id), func.max(ids.c.id), func.count()))).one()
        if not rows:
            return None
        return BatchBounds(first_id=int(first), last_id=int(last), rows=int(rows))

    async def embed_batch(self, tenant_id: str, to_model: str, first_id: int, last_id: int) -> BatchResult:
        """Give every item of the tenant in [first_id, last_id] a vector of to_model, in one
        embedder call; items that already have one are left alone, so a retry embeds nothing."""
        check_id("tenant", tenant_id)
        embedder = self._embedder(to_model)
        in_range = and_(
            recall_items.c.tenant_id == tenant_id, recall_items.c.id >= first_id, recall_items.c.id <= last_id
        )
        async with self._engine.connect() as conn:
            missing = (
                await conn.execute(
                    select(recall_items.c.id, recall_items.c.text)
                    .where(in_range, ~_has_vector(to_model))
                    .order_by(recall_items.c.id)
                )
            ).all()
            present = await conn.scalar(
                select(func.count()).select_from(recall_items).where(in_range, _has_vector(to_model))
            )
        if not missing:
            return BatchResult(first_id=first_id, last_id=last_id, embedded=0, already_present=int(present))
        vectors = await self._embed(embedder, [row.text for row in missing])
        # Billed before the vectors are stored: a retry after a crash in between embeds
        # again but is not billed twice (one ledger row per batch, whatever happens).
        await self._bill(f"{tenant_id}/migration/{to_model}/{first_id}-{last_id}", tenant_id, embedder, missing)
        async with self._engine.begin() as conn:
            inserted = await conn.execute(
                insert(recall_embeddings)
                .values(
                    [
                        dict(item_id=row.id, embedding_model=to_model, tenant_id=tenant_id, embedding=vector)
                        for row, vector in zip(missing, vectors, strict=True)
                    ]
                )
                .on_conflict_do_nothing(index_elements=["item_id", "embedding_model"])
                .returning(recall_embeddings.c.item_id)
            )
            embedded = len(inserted.all())
        return BatchResult(
            first_id=first_id,
            last_id=last_id,
            embedded=embedded,
            already_present=int(present) + len(missing) - embedded,
        )

    async def progress(self, tenant_id: str, to_model: str) -> tuple[int, int]:
        """(items with a to_model vector, items) of the tenant."""
        check_id("tenant", tenant_id)
        async with self._engine.connect() as conn:
            return await self._coverage(conn, tenant_id, to_model)

    async def _coverage(self, conn: AsyncConnection, tenant_id: str, model: str) -> tuple[int, int]:
        row = (
            await conn.execute(
                select(
                    func.count().filter(_has_vector(model)),
                    func.count(),
                )
                .select_from(recall_items)
                .where(recall_items.c.tenant_id == tenant_id)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def verify(self, tenant_id: str, to_model: str, *, sample: int = 20) -> VerifyReport:
        """Every item has a to_model vector, and a sample re-embedded now matches what was stored."""
        check_id("tenant", tenant_id)
        embedder = self._embedder(to_model)
        e = recall_embeddings.c
        async with self._engine.connect() as conn:
            with_vector, total = await self._coverage(conn, tenant_id, to_model)
            # A deterministic sample (by hashed id), so a retried verify re-embeds the same rows.
            rows = (
                await conn.execute(
                    select(recall_items.c.id, recall_items.c.text, e.embedding)
                    .join(recall_embeddings, e.item_id == recall_items.c.id)
                    .where(recall_items.c.tenant_id == tenant_id, e.embedding_model == to_model)
                    .order_by(func.md5(cast(recall_items.c.id, Text)))
                    .limit(max(sample, 0))
                )
            ).all()
        max_distance = 0.0
        if rows:
            fresh = await self._embed(embedder, [row.text for row in rows])
            sampled_ids = ",".join(str(row.id) for row in sorted(rows, key=lambda r: r.id))
            digest = hashlib.blake2b(sampled_ids.encode(), digest_size=8).hexdigest()
            await self._bill(f"{tenant_id}/migration/{to_model}/verify/{digest}", tenant_id, embedder, rows)
            max_distance = max(
                _cosine_distance([float(x) for x in row.embedding], vector)
                for row, vector in zip(rows, fresh, strict=True)
            )
        missing = total - with_vector
        return VerifyReport(
            total=total,
            with_vector=with_vector,
            missing=missing,
            sampled=len(rows),
            max_distance=max_distance,
            ok=missing == 0 and max_distance <= VERIFY_MAX_DISTANCE,
        )

    async def switch(self, tenant_id: str, from_model: str, to_model: str) -> bool:
        """Move the fence from from_model to to_model in one compare-and-set; False when the
        fence was not on from_model (e.g. a retry after the switch already happened)."""
        check_id("tenant", tenant_id)
        self._embedder(to_model)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(tenants)
                .where(tenants.c.tenant_id == tenant_id, tenants.c.embedding_model == from_model)
                .values(embedding_model=to_model)
            )
        self._tenants.forget_fence(tenant_id)
        return result.rowcount == 1

    async def _lock_fence(self, conn: AsyncConnection, tenant_id: str) -> str:
        """The tenant's fence, locked until the transaction ends (rollback and cleanup serialize on it)."""
        current = await conn.scalar(
            select(tenants.c.embedding_model).where(tenants.c.tenant_id == tenant_id).with_for_update()
        )
        if current is None:
            raise InvalidInput(f"unknown tenant {tenant_id}")
        return current

    async def check_rollback(self, tenant_id: str, to_model: str) -> bool:
        """Whether a rollback to to_model would move the fence (False: it is there already);
        raises InvalidInput for one that cannot go ahead. Changes nothing, so a caller can
        refuse before it touches the tenant's other stores."""
        check_id("tenant", tenant_id)
        self._embedder(to_model)
        async with self._engine.begin() as conn:
            return await self._rollback_needed(conn, tenant_id, to_model)

    async def rollback(self, tenant_id: str, to_model: str) -> None:
        """Switch the fence back to a model that still has a vector for every item."""
        check_id("tenant", tenant_id)
        self._embedder(to_model)
        async with self._engine.begin() as conn:
            if await self._rollback_needed(conn, tenant_id, to_model):
                await conn.execute(
                    update(tenants).where(tenants.c.tenant_id == tenant_id).values(embedding_model=to_model)
                )
        self._tenants.forget_fence(tenant_id)

    async def _rollback_needed(self, conn: AsyncConnection, tenant_id: str, to_model: str) -> bool:
        current = await self._lock_fence(conn, tenant_id)
        if current == to_model:
            return False
        with_vector, total = await self._coverage(conn, tenant_id, to_model)
        if with_vector < total:
            raise InvalidInput(
                f"cannot roll tenant {tenant_id} back to {to_model}: "
                f"{total - with_vector} of {total} items have no vector of that model; "
                f"`migrate.py rollback --tenant {tenant_id} --to {to_model}` embeds them first"
            )
        return True

    async def cleanup(self, tenant_id: str, model: str) -> int:
        """Delete the tenant's vectors of a model it no longer uses; returns how many."""
        check_id("tenant", tenant_id)
        try:
            EmbeddingModelId.parse(model)
        except ValueError as err:
            raise InvalidInput(f"malformed model id: {err}") from None
        async with self._engine.begin() as conn:
            current = await self._lock_fence(conn, tenant_id)
            if current == model:
                raise InvalidInput(f"{model} is tenant {tenant_id}'s current model; its vectors stay")
            result = await conn.execute(
                delete(recall_embeddings).where(
                    recall_embeddings.c.tenant_id == tenant_id, recall_embeddings.c.embedding_model == model
                )
            )
        return result.rowcount

    async def ensure_index(self, model: str) -> str:
        """Create the model's approximate (partial HNSW) index if missing; returns its name."""
        try:
            EmbeddingModelId.parse(model)
        except ValueError as err:
            raise InvalidInput(f"malformed model id: {err}") from None
        return await ensure_index(self._engine, model)
