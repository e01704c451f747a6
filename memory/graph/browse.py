"""Facts of a group a page at a time, for people browsing the graph: first a light pass over
every matching fact (uuid, times, no vectors), then the page's facts in full. Reading every
fact in full would carry each one's embedding, which is most of the bytes."""

from __future__ import annotations

from datetime import datetime

from graphiti_core.driver.driver import GraphDriver
from graphiti_core.helpers import parse_db_date
from pydantic import BaseModel

from memory.graph import queries
from memory.graph.models import GraphFact


class FactPage(BaseModel):
    facts: list[GraphFact]
    # Facts matching the filter, and the group's facts in all and current ones.
    matching: int
    total: int
    current: int


def _is_current(expired_at: datetime | None, invalid_at: datetime | None, now: datetime) -> bool:
    return expired_at is None and (invalid_at is None or invalid_at > now)


async def fact_page(
    driver: GraphDriver, group_id: str, *, entity: str, state: str, now: datetime, offset: int, limit: int
) -> FactPage:
    """Newest first; `entity` matches either end's name (case-insensitive substring); `state`
    is "all", "current" or "invalid"."""
    rows = await queries._read(
        driver,
        "MATCH (n:Entity)-[e:RELATES_TO]->(m:Entity) WHERE e.group_id = $group_id"
        " RETURN e.uuid AS uuid, e.created_at AS created_at, e.expired_at AS expired_at,"
        " e.invalid_at AS invalid_at, toLower(n.name) AS source, toLower(m.name) AS target",
        group_id=group_id,
    )
    needle = entity.lower()
    headers = []
    current = 0
    for row in rows:
        live = _is_current(parse_db_date(row["expired_at"]), parse_db_date(row["invalid_at"]), now)
        current += live
        if needle and needle not in (row["source"] or "") and needle not in (row["target"] or ""):
            continue
        if (state == "current" and not live) or (state == "invalid" and live):
            continue
        headers.append((parse_db_date(row["created_at"]), row["uuid"]))
    headers.sort(reverse=True)
    chosen = [uuid for _, uuid in headers[offset : offset + limit]]
    found = {fact.uuid: fact for fact in await queries.facts(driver, group_id, chosen)} if chosen else {}
    return FactPage(
        facts=[found[uuid] for uuid in chosen if uuid in found], matching=len(headers), total=len(rows), current=current
    )
