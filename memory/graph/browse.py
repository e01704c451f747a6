"""Facts of a group a page at a time, for people browsing the graph. Filtering, ordering and
paging run in the graph database, and a fact is read without its embedding (most of its
bytes), so a page costs about the same at 50 facts as at 5,000."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graphiti_core.driver.driver import GraphDriver
from graphiti_core.helpers import parse_db_date
from pydantic import BaseModel

from memory.graph import queries
from memory.graph.models import GraphFact

# Dates are stored as ISO 8601 text in UTC, so they compare in time order as strings.
_CURRENT = "e.expired_at IS NULL AND (e.invalid_at IS NULL OR e.invalid_at > $now)"
_STATES = {"all": "", "current": f" AND {_CURRENT}", "invalid": f" AND NOT ({_CURRENT})"}


class FactPage(BaseModel):
    facts: list[GraphFact]
    # Facts matching the filter; the group's facts in all, and the current ones.
    matching: int
    total: int
    current: int


def _fact(record: Any, names: dict[str, str]) -> GraphFact:
    return GraphFact(
        uuid=record["uuid"],
        fact=record["fact"],
        relation=record["name"],
        source_entity=names.get(record["source_uuid"], "?"),
        target_entity=names.get(record["target_uuid"], "?"),
        valid_at=parse_db_date(record["valid_at"]),
        invalid_at=parse_db_date(record["invalid_at"]),
        expired_at=parse_db_date(record["expired_at"]),
        created_at=parse_db_date(record["created_at"]),
        episodes=list(record["episodes"] or []),
    )


_FIELDS = (
    " e.uuid AS uuid, e.fact AS fact, e.name AS name, e.episodes AS episodes, e.created_at AS created_at,"
    " e.valid_at AS valid_at, e.invalid_at AS invalid_at, e.expired_at AS expired_at,"
    " startNode(e).uuid AS source_uuid, endNode(e).uuid AS target_uuid"
)
# FalkorDB sorts an edge pattern's own properties fast, but rows of a node-edge-node
# traversal slowly; so the page is sorted over edges alone and the names looked up after.
_EDGES = "MATCH ()-[e:RELATES_TO]->() WHERE e.group_id = $group_id"
MAX_MATCHED_ENTITIES = 200


async def fact_page(
    driver: GraphDriver, group_id: str, *, entity: str, state: str, now: datetime, offset: int, limit: int
) -> FactPage:
    """Newest first; `entity` matches either end's name (case-insensitive substring, the first
    200 entities that match); `state` is "all", "current" or "invalid"."""
    params: dict[str, Any] = {"group_id": group_id, "now": now.astimezone(UTC).isoformat()}
    counts = await queries._read(
        driver, _EDGES + f" RETURN count(e) AS total, sum(CASE WHEN {_CURRENT} THEN 1 ELSE 0 END) AS current", **params
    )
    total, current = (int(counts[0]["total"] or 0), int(counts[0]["current"] or 0)) if counts else (0, 0)
    if entity:
        ids = [
            r["uuid"]
            for r in await queries._read(
                driver,
                "MATCH (n:Entity) WHERE n.group_id = $group_id AND toLower(n.name) CONTAINS $needle"
                " RETURN n.uuid AS uuid LIMIT $most",
                needle=entity.lower(),
                most=MAX_MATCHED_ENTITIES,
                **params,
            )
        ]
        found = await queries._read(
            driver,
            "MATCH (n:Entity)-[e:RELATES_TO]-(:Entity) WHERE n.uuid IN $ids AND e.group_id = $group_id"
            + _STATES[state]
            + " RETURN DISTINCT"
            + _FIELDS,
            ids=ids,
            **params,
        )
        found = sorted(found, key=lambda r: (r["created_at"] or "", r["uuid"]), reverse=True)
        matching, rows = len(found), found[offset : offset + limit]
    else:
        rows = await queries._read(
            driver,
            _EDGES + _STATES[state] + " WITH e ORDER BY e.created_at DESC, e.uuid DESC SKIP $skip LIMIT $limit RETURN"
            + _FIELDS,
            skip=offset,
            limit=limit,
            **params,
        )
        if state == "all":
            matching = total
        else:
            matched = await queries._read(driver, _EDGES + _STATES[state] + " RETURN count(e) AS matching", **params)
            matching = int(matched[0]["matching"]) if matched else 0
    ends = sorted({r["source_uuid"] for r in rows} | {r["target_uuid"] for r in rows})
    names = {
        r["uuid"]: r["name"]
        for r in await queries._read(
            driver, "MATCH (n:Entity) WHERE n.uuid IN $ids RETURN n.uuid AS uuid, n.name AS name", ids=ends
        )
    } if ends else {}
    return FactPage(facts=[_fact(r, names) for r in rows], matching=matching, total=total, current=current)
