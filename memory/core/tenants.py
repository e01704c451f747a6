"""Tenant registry: each tenant's current embedding model, the value every vector query is fenced on,
and the tenant's plan, which sets the defaults of its run-time switches."""

from __future__ import annotations

import time
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.schema import plan_changes, tenants
from memory.core.validation import InvalidInput, check_id, check_storable

MAX_OPERATOR_CHARS = 200
MAX_REASON_CHARS = 2000
MAX_HISTORY_ROWS = 1000


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


class PlanChange(BaseModel):
    id: int
    tenant_id: str
    plan: str
    operator: str
    reason: str
    created_at: datetime


def check_change_note(operator: object, reason: object) -> None:
    """Who makes a change and why: both are kept in the history, so both are checked first."""
    if not isinstance(operator, str) or not operator.strip():
        raise InvalidInput("a switch change must name its operator")
    if len(operator) > MAX_OPERATOR_CHARS:
        raise InvalidInput(f"operator name is longer than {MAX_OPERATOR_CHARS} characters")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"reason must be text of at most {MAX_REASON_CHARS} characters")
    check_storable("the operator name", operator)
    check_storable("the reason", reason)


def check_limit(limit: object) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HISTORY_ROWS:
        raise InvalidInput(f"history limit must be between 1 and {MAX_HISTORY_ROWS}, got {limit!r}")


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

    async def set_plan(
        self,
        tenant_id: str,
        plan: str,
        *,
        operator: str | None = None,
        reason: str = "",
        change_key: str | None = None,
    ) -> Plan:
        """Put a tenant on a plan; a tenant not seen before is registered on the default model,
        so a trial can be configured before its first message. With an operator, the change
        is recorded (who, why) in the same transaction; a change_key seen before changes nothing."""
        check_id("tenant", tenant_id)
        chosen = check_plan(plan)
        if operator is not None:
            check_change_note(operator, reason)
        async with self._engine.begin() as conn:
            if operator is not None:
                recorded = await conn.execute(
                    insert(plan_changes)
                    .values(
                        tenant_id=tenant_id,
                        plan=chosen.value,
                        operator=operator.strip(),
                        reason=reason.strip(),
                        change_key=change_key,
                    )
                    .on_conflict_do_nothing(index_elements=["change_key"])
                )
                if not recorded.rowcount:
                    return chosen
            await conn.execute(
                insert(tenants)
                .values(tenant_id=tenant_id, embedding_model=self._default_model, plan=chosen.value)
                .on_conflict_do_update(index_elements=["tenant_id"], set_={"plan": chosen.value})
            )
        return chosen

    async def plan_history(self, tenant_id: str, limit: int = 50) -> list[PlanChange]:
        """Recorded plan changes of the tenant, newest first."""
        check_id("tenant", tenant_id)
        check_limit(limit)
        query = (
            select(plan_changes).where(plan_changes.c.tenant_id == tenant_id).order_by(plan_changes.c.id.desc()).limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [PlanChange.model_validate(dict(row)) for row in rows]

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
