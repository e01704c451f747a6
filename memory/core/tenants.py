"""Tenant registry: each tenant's current embedding model, the value every vector query is fenced on,
and the tenant's plan, which sets the defaults of its run-time switches."""

from __future__ import annotations

import time
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.schema import tenants
from memory.core.validation import InvalidInput, check_id


class Plan(StrEnum):
    STANDARD = "standard"
    TRIAL = "trial"


# What the tenants table's server default gives a tenant nobody has put on a plan.
DEFAULT_PLAN = Plan.STANDARD


def check_plan(value: object) -> Plan:
    try:
        return Plan(value)
    except ValueError:
        known = ", ".join(p.value for p in Plan)
        raise InvalidInput(f"unknown plan {str(value)[:80]!r}: plans are {known}") from None


# How long a worker trusts the fence it last read for a query. A switch made in this process
# is seen at once (forget_fence); one made by another worker within this many seconds. Safe
# either way: a query embeds with the model it filters on, and the migration keeps the old
# model's vectors until an operator cleans them up.
FENCE_CACHE_SECONDS = 5.0


class TenantRegistry:
    def __init__(
        self, engine: AsyncEngine, default_embedding_model: str, *, fence_cache_seconds: float = FENCE_CACHE_SECONDS
    ):
        self._engine = engine
        self._default_model = default_embedding_model
        self._fence_cache_seconds = fence_cache_seconds
        self._fences: dict[str, tuple[str, float]] = {}

    async def current_embedding_model(self, tenant_id: str) -> str:
        """The tenant's fence, read from the database; a tenant seen for the first time starts
        on the default model. Writes nothing once the tenant is registered."""
        async with self._engine.connect() as conn:
            model = await conn.scalar(select(tenants.c.embedding_model).where(tenants.c.tenant_id == tenant_id))
        if model is None:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(tenants)
                    .values(tenant_id=tenant_id, embedding_model=self._default_model)
                    .on_conflict_do_nothing(index_elements=["tenant_id"])
                )
                model = await conn.scalar(
                    select(tenants.c.embedding_model).where(tenants.c.tenant_id == tenant_id)
                )
        self._fences[tenant_id] = (model, time.monotonic() + self._fence_cache_seconds)
        return model

    async def query_embedding_model(self, tenant_id: str) -> str:
        """The fence a read embeds its query with: cached for a few seconds, so a turn's reads
        do not each ask the database. Writes always read the fence itself."""
        cached = self._fences.get(tenant_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        return await self.current_embedding_model(tenant_id)

    def forget_fence(self, tenant_id: str) -> None:
        """Called when this process moves a tenant's fence: the next read asks the database."""
        self._fences.pop(tenant_id, None)

    async def known_embedding_model(self, tenant_id: str) -> str | None:
        """The tenant's fence; None for a tenant not seen yet (reading registers nobody)."""
        check_id("tenant", tenant_id)
        async with self._engine.connect() as conn:
            row = await conn.execute(select(tenants.c.embedding_model).where(tenants.c.tenant_id == tenant_id))
            return row.scalar_one_or_none()

    async def set_plan(self, tenant_id: str, plan: str) -> Plan:
        """Put a tenant on a plan; a tenant not seen before is registered on the default model,
        so a trial can be configured before its first message."""
        check_id("tenant", tenant_id)
        chosen = check_plan(plan)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(tenants)
                .values(tenant_id=tenant_id, embedding_model=self._default_model, plan=chosen.value)
                .on_conflict_do_update(index_elements=["tenant_id"], set_={"plan": chosen.value})
            )
        return chosen

    async def plan(self, tenant_id: str) -> str:
        """The tenant's plan; a tenant not seen yet is on the default plan (reading registers nobody)."""
        check_id("tenant", tenant_id)
        async with self._engine.connect() as conn:
            row = await conn.execute(select(tenants.c.plan).where(tenants.c.tenant_id == tenant_id))
            stored = row.scalar_one_or_none()
        return DEFAULT_PLAN.value if stored is None else stored

    async def set_active(self, tenant_id: str, active: bool) -> bool:
        """Mark a tenant active (retention keeps all its recall rows) or not; a tenant not
        seen before is registered on the default model, as with set_plan."""
        check_id("tenant", tenant_id)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(tenants)
                .values(tenant_id=tenant_id, embedding_model=self._default_model, active=active)
                .on_conflict_do_update(index_elements=["tenant_id"], set_={"active": active})
            )
        return active

    async def is_active(self, tenant_id: str) -> bool:
        """Whether the tenant is active; a tenant not seen yet is not (reading registers nobody)."""
        check_id("tenant", tenant_id)
        async with self._engine.connect() as conn:
            row = await conn.execute(select(tenants.c.active).where(tenants.c.tenant_id == tenant_id))
            return bool(row.scalar_one_or_none())
