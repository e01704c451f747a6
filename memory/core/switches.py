"""Run-time switches kept in Postgres, so an operator can turn memory work off without a redeploy.

Rows are append-only: the newest row per (tenant, name) is in force and the rows before it
say who flipped what, when and why. A tenant's own row beats the global row, which beats
the default; a row whose value is JSON null clears its level, so the next one down applies.
Switches are never cached across units of work: a turn's reads share one read of them
(memory/core/read_once.py), so a flip takes effect from the next turn.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import JSON, func, literal, select
from sqlalchemy.dialects.postgresql import JSONB, distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.read_once import once
from memory.core.schema import switch_settings, tenants
from memory.core.tenants import (
    DEFAULT_PLAN,
    Plan,
    check_change_note,
    check_limit,
)
from memory.core.validation import InvalidInput, check_id

log = logging.getLogger(__name__)

# The tenant_id of global rows; check_id refuses it as a tenant id, so it can never collide.
GLOBAL = "*"


GRAPH_EXTRACTION = "graph_extraction"
INGEST_MIN_CHARS = "ingest_min_chars"


class SwitchableLayer(StrEnum):
    """Memory layers with a global kill switch."""

    GRAPH = "graph"
    RECALL = "recall"
    DOCUMENTS = "documents"
    NOTEBOOK = "notebook"
    CONVERSATION_SUMMARY = "conversation_summary"
    EPISODIC = "episodic"
    SKILLS = "skills"


def layer_switch(layer: SwitchableLayer | str) -> str:
    return f"layer.{SwitchableLayer(layer).value}.enabled"


@dataclass(frozen=True)
class SwitchSpec:
    name: str
    kind: type  # bool or int
    global_only: bool
    description: str


SWITCHES: dict[str, SwitchSpec] = {
    spec.name: spec
    for spec in [
        SwitchSpec(GRAPH_EXTRACTION, bool, False, "extract the knowledge graph from this tenant's exchanges"),
        SwitchSpec(INGEST_MIN_CHARS, int, False, "messages shorter than this are not ingested"),
        *(
            SwitchSpec(layer_switch(layer), bool, True, f"kill switch of the {layer.value} layer, for every tenant")
            for layer in SwitchableLayer
        ),
    ]
}

_TRUE_WORDS = {"on", "true"}
_FALSE_WORDS = {"off", "false"}


def switch_spec(name: object) -> SwitchSpec:
    spec = SWITCHES.get(name) if isinstance(name, str) else None
    if spec is None:
        raise InvalidInput(f"unknown switch {str(name)[:80]!r}: switches are {', '.join(SWITCHES)}")
    return spec


def check_value(name: str, value: object) -> bool | int:
    """The value if it has the switch's type; bool is not accepted for an int nor 0/1 for a bool."""
    spec = switch_spec(name)
    if spec.kind is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} takes on or off (a boolean), got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} takes a whole number >= 0, got {value!r}")
    if value < 0:
        raise InvalidInput(f"{name} takes a whole number >= 0, got {value}")
    return value


def parse_value(name: str, text: str) -> bool | int:
    """A value typed by an operator: on/off/true/false for switches, digits for numbers."""
    spec = switch_spec(name)
    word = text.strip().lower()
    if spec.kind is bool:
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise InvalidInput(f"{name} takes on, off, true or false, got {text[:80]!r}")
    try:
        number = int(word)
    except ValueError:
        raise InvalidInput(f"{name} takes a whole number >= 0, got {text[:80]!r}") from None
    return check_value(name, number)


# The word that clears a level, so the global value or the default applies again.
CLEAR = "default"


def typed_value(name: str, value: bool | int | str | None) -> bool | int | None:
    """A value as typed by an operator ("off", "200", "default") or already typed."""
    if value is None or (isinstance(value, str) and value.strip().lower() == CLEAR):
        return None
    return parse_value(name, value) if isinstance(value, str) else check_value(name, value)


def format_value(value: bool | int | None) -> str:
    if value is None:
        return "default"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


class EffectiveSwitches(BaseModel):
    tenant_id: str
    plan: str
    graph_extraction: bool
    # Where graph_extraction came from: "tenant", "global" or "plan default (<plan>)".
    graph_extraction_source: str
    ingest_min_chars: int
    layers: dict[str, bool]
    # Where every switch's value came from, by switch name: "tenant", "global" or a default.
    sources: dict[str, str]


class GlobalSwitches(BaseModel):
    # None: no global row, so each tenant's plan decides.
    graph_extraction: bool | None
    ingest_min_chars: int
    layers: dict[str, bool]
    sources: dict[str, str]


class SwitchChange(BaseModel):
    id: int
    # None for a global change.
    tenant_id: str | None
    name: str
    # None: the value was cleared, so the level below applies again.
    value: bool | int | None
    operator: str
    reason: str
    created_at: datetime


def _plan_default(plan: str) -> bool:
    # Graph extraction is the costly memory work, so trials go without it unless switched on.
    return plan != Plan.TRIAL


def _in_force(rows: list[list]) -> dict[tuple[str, str], bool | int]:
    """The stored (scope, name) -> value rows, without names or values this code does not know.
    Such rows can only come from outside this module; they are ignored rather than stopping every
    decision, and logged so someone notices."""
    values: dict[tuple[str, str], bool | int] = {}
    for scope, name, value in rows:
        if value is None:
            continue  # cleared: the level below applies
        try:
            values[(scope, name)] = check_value(name, value)
        except InvalidInput as err:
            log.warning("ignoring switch row for %s: %s", scope, err)
    return values


def _layers(values: dict[tuple[str, str], bool | int]) -> tuple[dict[str, bool], dict[str, str]]:
    layers: dict[str, bool] = {}
    sources: dict[str, str] = {}
    for layer in SwitchableLayer:
        name = layer_switch(layer)
        stored = values.get((GLOBAL, name))
        layers[layer.value] = True if stored is None else bool(stored)
        sources[name] = "default" if stored is None else "global"
    return layers, sources


class SwitchBoard:
    def __init__(self, engine: AsyncEngine, *, default_ingest_min_chars: int = 80):
        self._engine = engine
        self._default_min_chars = check_value(INGEST_MIN_CHARS, default_ingest_min_chars)

    async def layer_on(self, tenant_id: str, layer: SwitchableLayer) -> bool:
        """Whether a layer's global kill switch lets it run for this tenant now."""
        return (await self.effective(tenant_id)).layers.get(layer.value, True)

    async def effective(self, tenant_id: str) -> EffectiveSwitches:
        """The switches in force for a tenant now, each with where its value came from; read
        once per read_once scope, so a turn's layers do not each ask the database."""
        check_id("tenant", tenant_id)
        return await once(("switches", tenant_id), lambda: self._read_effective(tenant_id))

    async def _read_effective(self, tenant_id: str) -> EffectiveSwitches:
        plan_query = select(tenants.c.plan).where(tenants.c.tenant_id == tenant_id).scalar_subquery()
        # One round trip: the tenant's plan and the newest row of every switch that bears on it.
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(plan_query.label("plan"), self._latest([tenant_id, GLOBAL])))).one()
        plan = row.plan or DEFAULT_PLAN.value
        values = _in_force(row.settings)

        sources: dict[str, str] = {}
        if (tenant_id, GRAPH_EXTRACTION) in values:
            graph, sources[GRAPH_EXTRACTION] = values[(tenant_id, GRAPH_EXTRACTION)], "tenant"
        elif (GLOBAL, GRAPH_EXTRACTION) in values:
            graph, sources[GRAPH_EXTRACTION] = values[(GLOBAL, GRAPH_EXTRACTION)], "global"
        else:
            graph, sources[GRAPH_EXTRACTION] = _plan_default(plan), f"plan default ({plan})"

        if (tenant_id, INGEST_MIN_CHARS) in values:
            min_chars, sources[INGEST_MIN_CHARS] = values[(tenant_id, INGEST_MIN_CHARS)], "tenant"
        elif (GLOBAL, INGEST_MIN_CHARS) in values:
            min_chars, sources[INGEST_MIN_CHARS] = values[(GLOBAL, INGEST_MIN_CHARS)], "global"
        else:
            min_chars, sources[INGEST_MIN_CHARS] = self._default_min_chars, "default"

        layers, layer_sources = _layers(values)
        return EffectiveSwitches(
            tenant_id=tenant_id,
            plan=plan,
            graph_extraction=bool(graph),
            graph_extraction_source=sources[GRAPH_EXTRACTION],
            ingest_min_chars=int(min_chars),
            layers=layers,
            sources=sources | layer_sources,
        )

    async def global_switches(self) -> GlobalSwitches:
        """The global rows in force, before any tenant's own rows or plan apply."""
        async with self._engine.connect() as conn:
            stored = (await conn.execute(select(self._latest([GLOBAL])))).scalar_one()
        values = _in_force(stored)
        graph = values.get((GLOBAL, GRAPH_EXTRACTION))
        min_chars = values.get((GLOBAL, INGEST_MIN_CHARS))
        layers, layer_sources = _layers(values)
        return GlobalSwitches(
            graph_extraction=None if graph is None else bool(graph),
            ingest_min_chars=self._default_min_chars if min_chars is None else int(min_chars),
            layers=layers,
            sources={
                GRAPH_EXTRACTION: "plan default (per tenant)" if graph is None else "global",
                INGEST_MIN_CHARS: "default" if min_chars is None else "global",
            }
            | layer_sources,
        )

    async def set(
        self,
        name: str,
        value: bool | int,
        *,
        tenant_id: str | None,
        operator: str,
        reason: str = "",
        change_key: str | None = None,
    ) -> None:
        """Append a row that is in force from the next read on. tenant_id None sets the global value.
        A change_key seen before writes nothing: the change was made already."""
        await self._append(
            name, check_value(name, value), tenant_id=tenant_id, operator=operator, reason=reason, change_key=change_key
        )

    async def clear(
        self, name: str, *, tenant_id: str | None, operator: str, reason: str = "", change_key: str | None = None
    ) -> None:
        """Take away the tenant's (or the global) value, so the global value or default applies again.

        Setting the default value instead would pin it: a later change of the default would
        not reach this tenant, and a global row would pin every tenant's plan default."""
        await self._append(name, None, tenant_id=tenant_id, operator=operator, reason=reason, change_key=change_key)

    async def _append(
        self,
        name: str,
        value: bool | int | None,
        *,
        tenant_id: str | None,
        operator: str,
        reason: str,
        change_key: str | None,
    ) -> None:
        spec = switch_spec(name)
        if tenant_id is not None:
            check_id("tenant", tenant_id)
            if spec.global_only:
                raise InvalidInput(f"{name} is a global switch: it cannot be set for one tenant")
        check_change_note(operator, reason)
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(switch_settings)
                .values(
                    tenant_id=GLOBAL if tenant_id is None else tenant_id,
                    name=name,
                    # JSON null, not SQL NULL: a cleared level is a row of the history too.
                    value=JSON.NULL if value is None else value,
                    operator=operator.strip(),
                    reason=reason.strip(),
                    change_key=change_key,
                )
                .on_conflict_do_nothing(index_elements=["change_key"])
            )

    async def history(
        self, tenant_id: str | None = None, name: str | None = None, limit: int = 50
    ) -> list[SwitchChange]:
        """Changes, newest first. tenant_id None: every scope; GLOBAL ("*"): global rows only."""
        query = select(switch_settings).order_by(switch_settings.c.id.desc())
        if tenant_id is not None:
            if tenant_id != GLOBAL:
                check_id("tenant", tenant_id)
            query = query.where(switch_settings.c.tenant_id == tenant_id)
        if name is not None:
            query = query.where(switch_settings.c.name == switch_spec(name).name)
        check_limit(limit)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.limit(limit))).mappings().all()
        return [
            SwitchChange(
                id=row["id"],
                tenant_id=None if row["tenant_id"] == GLOBAL else row["tenant_id"],
                name=row["name"],
                value=row["value"],
                operator=row["operator"],
                reason=row["reason"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    @staticmethod
    def _latest(scopes: list[str]):
        """A JSON array of [scope, name, value], the newest row per (scope, name) of the given scopes."""
        latest = (
            select(switch_settings.c.tenant_id, switch_settings.c.name, switch_settings.c.value)
            .where(switch_settings.c.tenant_id.in_(scopes))
            .ext(distinct_on(switch_settings.c.tenant_id, switch_settings.c.name))
            .order_by(switch_settings.c.tenant_id, switch_settings.c.name, switch_settings.c.id.desc())
            .subquery()
        )
        rows = func.jsonb_agg(func.jsonb_build_array(latest.c.tenant_id, latest.c.name, latest.c.value), type_=JSONB)
        empty = literal([], JSONB)
        return select(func.coalesce(rows, empty, type_=JSONB)).scalar_subquery().label("settings")
