"""The few reads and writes graphiti has no call for. Plain Cypher that FalkorDB and Neo4j both run."""

from __future__ import annotations

from enum import Enum
from typing import Any

from graphiti_core.driver.driver import GraphDriver, GraphProvider
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


ENTITY_PAGE = 1_000


async def entity_count(driver: GraphDriver, group_id: str) -> int:
    records = await _read(
        driver, "MATCH (n:Entity) WHERE n.group_id = $group_id RETURN count(n) AS entities", group_id=group_id
    )
    return int(records[0]["entities"]) if records else 0


async def entities(driver: GraphDriver, group_id: str) -> list[tuple[str, str]]:
    """(uuid, name) of every entity in the group. No embeddings are read.

    Read in pages: a client parses a result on the event loop, and one result of tens of
    thousands of rows would hold it for seconds."""
    found: list[tuple[str, str]] = []
    while True:
        records = await _read(
            driver,
            "MATCH (n:Entity) WHERE n.group_id = $group_id RETURN n.uuid AS uuid, n.name AS name"
            " ORDER BY n.uuid SKIP $skip LIMIT $limit",
            group_id=group_id,
            skip=len(found),
            limit=ENTITY_PAGE,
        )
        found.extend((record["uuid"], record["name"]) for record in records)
        if len(records) < ENTITY_PAGE:
            return found


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


# --- Moving a graph to another embedding model ---------------------------------
#
# The vectors of a model the graph is moving to (or moved from) live apart from the
# entities and edges, on :GraphEmbedding nodes keyed by (group, model, uuid): graphiti
# reads every property of an entity or edge back as an attribute and saves it again,
# so a vector stored beside the live one would travel through its prompts and outlive
# a rename. Each shadow keeps the text it embeds; one whose text no longer matches the
# name or fact is stale and counts as missing.

SHADOW = "GraphEmbedding"
FENCE = "EmbeddingFence"


def _vector(driver: GraphDriver, target: str, value: str) -> str:
    """A clause storing value as target's `embedding` the way graphiti stores its vectors."""
    if driver.provider == GraphProvider.FALKORDB:
        return f"SET {target}.embedding = vecf32({value})"
    return f'WITH {target}, row CALL db.create.setNodeVectorProperty({target}, "embedding", {value})'


async def ensure_shadow_index(driver: GraphDriver) -> None:
    if driver.provider == GraphProvider.FALKORDB:
        query = f"CREATE INDEX FOR (s:{SHADOW}) ON (s.key)"
    else:
        query = f"CREATE INDEX graph_embedding_key IF NOT EXISTS FOR (s:{SHADOW}) ON (s.key)"
    try:
        await driver.execute_query(query)
    except Exception as err:  # FalkorDB refuses to build an index twice
        if "already indexed" not in str(err).lower():
            raise


_KINDS = {
    # kind: (pattern, variable, text property, live vector property)
    "entity": ("(n:Entity)", "n", "name", "name_embedding"),
    "fact": ("(:Entity)-[n:RELATES_TO]->(:Entity)", "n", "fact", "fact_embedding"),
}


async def unshadowed(
    driver: GraphDriver, group_id: str, kind: str, model: str, after: str, limit: int
) -> list[tuple[str, str]]:
    """(uuid, text) of the group's entities or facts after `after` with no current vector of model, by uuid."""
    pattern, var, text, _ = _KINDS[kind]
    records = await _read(
        driver,
        f"MATCH {pattern} WHERE {var}.group_id = $group_id AND {var}.uuid > $after"
        f" OPTIONAL MATCH (s:{SHADOW} {{key: {var}.uuid}}) WHERE s.group_id = $group_id AND s.model = $model"
        f" WITH {var}, s WHERE s IS NULL OR s.text <> {var}.{text}"
        f" RETURN {var}.uuid AS uuid, {var}.{text} AS text ORDER BY uuid LIMIT $limit",
        group_id=group_id,
        model=model,
        after=after,
        limit=limit,
    )
    return [(record["uuid"], record["text"]) for record in records]


async def write_shadows(
    driver: GraphDriver, group_id: str, kind: str, model: str, rows: list[dict[str, Any]]
) -> None:
    """Store rows of {uuid, text, vector}; the same (model, uuid) is overwritten, never duplicated."""
    if not rows:
        return
    await driver.execute_query(
        f"UNWIND $rows AS row MERGE (s:{SHADOW} {{key: row.uuid, group_id: $group_id, model: $model}})"
        f" SET s.kind = $kind, s.text = row.text "
        + _vector(driver, "s", "row.vector")
        + " RETURN count(s) AS written",
        rows=rows,
        group_id=group_id,
        model=model,
        kind=kind,
    )


async def shadow_counts(driver: GraphDriver, group_id: str, kind: str, model: str) -> tuple[int, int]:
    """(items with a current vector of model, items) of one kind."""
    pattern, var, text, _ = _KINDS[kind]
    records = await _read(
        driver,
        f"MATCH {pattern} WHERE {var}.group_id = $group_id"
        f" OPTIONAL MATCH (s:{SHADOW} {{key: {var}.uuid}}) WHERE s.group_id = $group_id AND s.model = $model"
        f" AND s.text = {var}.{text}"
        f" RETURN count(s) AS done, count({var}) AS total",
        group_id=group_id,
        model=model,
    )
    return (records[0]["done"], records[0]["total"]) if records else (0, 0)


async def promote(driver: GraphDriver, group_id: str, to_model: str, from_model: str) -> None:
    """Keep every live vector as a shadow of from_model, make to_model's live, stamp the fence.

    One statement, so it happens whole or not at all: a retry after a failure finds
    the live vectors still from_model's, and one after success finds the fence moved.
    The fence is stamped first: a MATCH that finds nothing ends the statement's rows, and
    a graph with no facts (or nothing at all) must still say which model it is on.
    """
    parts = []
    for kind, (pattern, var, text, live) in _KINDS.items():
        shadow, old = f"s_{kind}", f"o_{kind}"
        parts.append(
            f"MATCH {pattern} WHERE {var}.group_id = $group_id"
            f" MATCH ({shadow}:{SHADOW} {{key: {var}.uuid}})"
            f" WHERE {shadow}.group_id = $group_id AND {shadow}.model = $to_model"
            f" MERGE ({old}:{SHADOW} {{key: {var}.uuid, group_id: $group_id, model: $from_model}})"
            f" SET {old}.kind = '{kind}', {old}.text = {var}.{text}, {old}.embedding = {var}.{live}"
            f" SET {var}.{live} = {shadow}.embedding"
        )
    query = (
        f"MERGE (f:{FENCE} {{group_id: $group_id}}) SET f.model = $to_model"
        + " WITH count(f) AS stamped "
        + parts[0]
        + " WITH count(n) AS entities "
        + parts[1]
        + " RETURN entities, count(n) AS facts"
    )
    await driver.execute_query(query, group_id=group_id, to_model=to_model, from_model=from_model)


async def fence_model(driver: GraphDriver, group_id: str) -> str | None:
    records = await _read(
        driver, f"MATCH (f:{FENCE}) WHERE f.group_id = $group_id RETURN f.model AS model", group_id=group_id
    )
    return records[0]["model"] if records else None


async def stamp_fence(driver: GraphDriver, group_id: str, model: str) -> None:
    await driver.execute_query(
        f"MERGE (f:{FENCE} {{group_id: $group_id}}) SET f.model = $model RETURN f.model AS model",
        group_id=group_id,
        model=model,
    )


async def drop_shadows(driver: GraphDriver, group_id: str, model: str) -> int:
    result = await driver.execute_query(
        f"MATCH (s:{SHADOW}) WHERE s.group_id = $group_id AND s.model = $model"
        " WITH s, s.key AS key DELETE s RETURN count(key) AS dropped",
        group_id=group_id,
        model=model,
    )
    records = result[0] if result else []
    return records[0]["dropped"] if records else 0
