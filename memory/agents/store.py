"""Agent definitions in Postgres: every save a new version, none ever changed."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.agents.models import AgentSpec, AgentVersion, McpTool
from memory.core.refs import AgentRef
from memory.core.schema import agent_definitions


class VersionConflict(Exception):
    """Someone saved a newer version since the one this change was based on."""


class AgentDefinitions:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def save(
        self,
        agent: AgentRef,
        spec: AgentSpec,
        mcp_tools: list[McpTool],
        *,
        author: str,
        note: str,
        idempotency_key: str,
        based_on: int | None = None,
    ) -> AgentVersion:
        """Save the next version. Once per key: a retried save gets the version its first
        attempt wrote. With based_on, refuse if the newest version is no longer that one."""
        async with self._engine.begin() as conn:
            earlier = (
                await conn.execute(select(agent_definitions).where(agent_definitions.c.idempotency_key == idempotency_key))
            ).mappings().first()
            if earlier is not None:
                return _version(earlier)
            # Serialise saves of one agent: the version numbers stay dense and ordered.
            await conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"agent/{agent.tenant_id}/{agent.agent_id}"))))
            newest = (
                await conn.execute(
                    select(func.max(agent_definitions.c.version)).where(
                        agent_definitions.c.tenant_id == agent.tenant_id, agent_definitions.c.agent_id == agent.agent_id
                    )
                )
            ).scalar() or 0
            if based_on == 0 and newest:
                raise VersionConflict(f"agent {agent.agent_id} exists already (version {newest}): update it instead")
            if based_on is not None and based_on != newest:
                raise VersionConflict(
                    f"agent {agent.agent_id} is at version {newest}, not {based_on}: show it, then update again"
                )
            row = (
                await conn.execute(
                    insert(agent_definitions)
                    .values(
                        tenant_id=agent.tenant_id,
                        agent_id=agent.agent_id,
                        version=newest + 1,
                        spec=spec.model_dump(mode="json"),
                        mcp_tools=[tool.model_dump(mode="json") for tool in mcp_tools],
                        author=author,
                        note=note,
                        idempotency_key=idempotency_key,
                    )
                    .returning(agent_definitions)
                )
            ).mappings().one()
        return _version(row)

    async def current(self, agent: AgentRef) -> AgentVersion | None:
        """The newest version, or None for an agent never defined (it keeps the runtime's default)."""
        return await self._one(agent, None)

    async def get(self, agent: AgentRef, version: int) -> AgentVersion | None:
        return await self._one(agent, version)

    async def _one(self, agent: AgentRef, version: int | None) -> AgentVersion | None:
        query = select(agent_definitions).where(
            agent_definitions.c.tenant_id == agent.tenant_id, agent_definitions.c.agent_id == agent.agent_id
        )
        query = query.where(agent_definitions.c.version == version) if version else query
        query = query.order_by(agent_definitions.c.version.desc()).limit(1)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return _version(row) if row else None

    async def history(self, agent: AgentRef) -> list[AgentVersion]:
        query = (
            select(agent_definitions)
            .where(agent_definitions.c.tenant_id == agent.tenant_id, agent_definitions.c.agent_id == agent.agent_id)
            .order_by(agent_definitions.c.version)
        )
        async with self._engine.connect() as conn:
            return [_version(row) for row in (await conn.execute(query)).mappings()]

    async def agents(self, tenant_id: str) -> list[AgentVersion]:
        """The newest version of every agent of a tenant, by agent id."""
        newest = (
            select(agent_definitions.c.agent_id, func.max(agent_definitions.c.version).label("version"))
            .where(agent_definitions.c.tenant_id == tenant_id)
            .group_by(agent_definitions.c.agent_id)
            .subquery()
        )
        query = (
            select(agent_definitions)
            .join(
                newest,
                (agent_definitions.c.agent_id == newest.c.agent_id) & (agent_definitions.c.version == newest.c.version),
            )
            .where(agent_definitions.c.tenant_id == tenant_id)
            .order_by(agent_definitions.c.agent_id)
        )
        async with self._engine.connect() as conn:
            return [_version(row) for row in (await conn.execute(query)).mappings()]


def _version(row) -> AgentVersion:
    return AgentVersion(
        tenant_id=row["tenant_id"],
        agent_id=row["agent_id"],
        version=row["version"],
        spec=AgentSpec.model_validate(row["spec"]),
        mcp_tools=[McpTool.model_validate(tool) for tool in row["mcp_tools"]],
        author=row["author"],
        note=row["note"],
        created_at=row["created_at"],
    )
