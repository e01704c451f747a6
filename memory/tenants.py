"""Tenant registry: each tenant's current embedding model, the value every vector query is fenced on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.schema import tenants


class TenantRegistry:
    def __init__(self, engine: AsyncEngine, default_embedding_model: str):
        self._engine = engine
        self._default_model = default_embedding_model

    async def current_embedding_model(self, tenant_id: str) -> str:
        """The tenant's fence; a tenant seen for the first time starts on the default model."""
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(tenants)
                .values(tenant_id=tenant_id, embedding_model=self._default_model)
                .on_conflict_do_nothing(index_elements=["tenant_id"])
            )
            row = await conn.execute(select(tenants.c.embedding_model).where(tenants.c.tenant_id == tenant_id))
            return row.scalar_one()
