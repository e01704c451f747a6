"""The few reads and writes graphiti has no call for. Plain Cypher that FalkorDB and Neo4j both run."""

from __future__ import annotations

from enum import Enum
from typing import Any

from graphiti_core.driver.driver import GraphDriver
from graphiti_core.edges import get_entity_edge_from_record
from graphiti_core.models.edges.edge_db_queries import get_entity_edge_return_query

from memory.graph.models import GraphFact

# graphiti saves an episode with `SET n = {...}`, which drops every property it does
# not know; so this mark, set after add_episode returns, survives only a finished ingest.
_DONE = "ingest_done"


class EpisodeState(Enum):
    ABSENT = "absent"
    # Saved but never finished: an earlier attempt died part-way.
    UNFINISHED = "unfinished"
    DONE = "done"
    # The uuid belongs to another group (possible on Neo4j, where groups share a database).
    FOREIGN = "foreign"


async def episode_state(driver: GraphDriver, group_id: str, uuid: str) -> EpisodeState:
    records = await _read(
        driver,
        f"MATCH (e:Episodic {{uuid: $uuid}}) RETURN e.group_id AS group_id, e.{_DONE} AS done",
        uuid=uuid,
    )
    if not records:
        return EpisodeState.ABSENT
    if records[0]["group_id"] != group_id:
        return EpisodeState.FOREIGN
    return EpisodeState.DONE if records[0]["done"] else EpisodeState.UNFINISHED


async def mark_episode_done(driver: GraphDriver, group_id: str, uuid: str) -> None:
    await driver.execute_query(
        f"MATCH (e:Episodic {{uuid: $uuid}}) WHERE e.group_id = $group_id SET e.{_DONE} = true",
        uuid=uuid,
        group_id=group_id,
    )


async def entities(driver: GraphDriver, group_id: str) -> list[tuple[str, str]]:
    """(uuid, name) of every entity in the group. No embeddings are read."""
    records = await _read(
        driver,
        "MATCH (n:Entity) WHERE n.group_id = $group_id RETURN n.uuid AS uuid, n.name AS name",
        group_id=group_id,
    )
    return [(record["uuid"], record["name"]) for record in records]


async def facts(driver: GraphDriver, group_id: str, uuids: list[str] | None = None) -> list[GraphFact]:
    """Entity edges of the group with their endpoint names, oldest first."""
    where = "e.group_id = $group_id" + (" AND e.uuid IN $uuids" if uuids is not None else "")
    records = await _read(
        driver,
        "MATCH (n:Entity)-[e:RELATES_TO]->(m:Entity) WHERE "
        + where
        + " RETURN "
        + get_entity_edge_return_query(driver.provider)
        + ", n.name AS source_entity, m.name AS target_entity"
        + " ORDER BY e.created_at, e.uuid",
        group_id=group_id,
        uuids=uuids,
    )
    result = []
    for record in records:
        record = dict(record)
        source_entity, target_entity = record.pop("source_entity"), record.pop("target_entity")
        edge = get_entity_edge_from_record(record, driver.provider)
        result.append(
            GraphFact(
                uuid=edge.uuid,
                fact=edge.fact,
                relation=edge.name,
                source_entity=source_entity,
                target_entity=target_entity,
                valid_at=edge.valid_at,
                invalid_at=edge.invalid_at,
                expired_at=edge.expired_at,
                created_at=edge.created_at,
                episodes=list(edge.episodes),
            )
        )
    return result


async def _read(driver: GraphDriver, query: str, **params: Any) -> list[Any]:
    result = await driver.execute_query(query, routing_="r", **params)
    if result is None:
        return []
    records, _, _ = result
    return list(records)
