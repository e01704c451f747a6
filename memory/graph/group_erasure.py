"""Counting and erasing a whole graph group: what forgetting a user (or a tenant) does to
the graph. Plain Cypher that FalkorDB and Neo4j both run; on FalkorDB, where a group is a
graph of its own, the emptied graph is then deleted, so not even its name stays behind."""

from __future__ import annotations

import logging

from graphiti_core.driver.driver import GraphDriver, GraphProvider
from pydantic import BaseModel

log = logging.getLogger(__name__)


class GroupSize(BaseModel):
    nodes: int = 0
    edges: int = 0


async def group_size(driver: GraphDriver, group_id: str) -> GroupSize:
    nodes = await _scalar(driver, "MATCH (n) WHERE n.group_id = $group_id RETURN count(n) AS found", group_id)
    edges = await _scalar(
        driver, "MATCH ()-[r]->() WHERE r.group_id = $group_id RETURN count(r) AS found", group_id
    )
    return GroupSize(nodes=nodes, edges=edges)


async def erase_group(driver: GraphDriver, group_id: str) -> None:
    """Delete every node of the group with its edges; idempotent."""
    await driver.execute_query("MATCH (n) WHERE n.group_id = $group_id DETACH DELETE n", group_id=group_id)
    if driver.provider == GraphProvider.FALKORDB:
        try:
            await driver.client.select_graph(group_id).delete()
        except Exception as err:  # the graph is already gone: nothing left to delete
            log.info("graph %s already deleted: %s", group_id, err)


async def _scalar(driver: GraphDriver, query: str, group_id: str) -> int:
    result = await driver.execute_query(query, routing_="r", group_id=group_id)
    records = result[0] if result else []
    return int(records[0]["found"]) if records else 0
