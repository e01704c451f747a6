"""From a graph URL to a graphiti driver per group.

falkor://[user:password@]host:port   FalkorDB: one graph per group, named after it.
bolt://... or neo4j://... (+s, +ssc)  Neo4j: one database; the group is a property.

FalkorDB drivers of different groups share one connection pool but never a driver:
a driver is bound to its graph, and graphiti re-targets a shared driver when it
meets another group, which lets concurrent groups write into each other's graphs.
"""

from __future__ import annotations

import asyncio
from typing import Protocol
from urllib.parse import unquote, urlsplit

from falkordb.asyncio import FalkorDB
from graphiti_core.driver.driver import GraphDriver
from graphiti_core.driver.falkordb_driver import FalkorDriver
from graphiti_core.driver.neo4j_driver import Neo4jDriver
from neo4j import AsyncGraphDatabase

_NEO4J_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})


class GraphBackend(Protocol):
    async def driver(self, group_id: str) -> GraphDriver:
        """A ready driver for the group: connected, indices built."""
        ...

    async def close(self) -> None: ...


def backend_for(
    graph_url: str,
    *,
    neo4j_user: str | None = None,
    neo4j_password: str | None = None,
    connect_timeout_seconds: float = 5.0,
    query_timeout_seconds: float = 60.0,
) -> GraphBackend:
    scheme = urlsplit(graph_url).scheme.lower()
    if scheme == "falkor":
        return FalkorBackend(graph_url, connect_timeout_seconds, query_timeout_seconds)
    if scheme in _NEO4J_SCHEMES:
        return Neo4jBackend(graph_url, neo4j_user, neo4j_password, connect_timeout_seconds)
    raise ValueError(
        f"graph URL scheme {scheme or '(none)'!r} is not supported: "
        "use falkor://host:port (FalkorDB) or bolt://host:port / neo4j://host:port (Neo4j)"
    )


async def _built(driver: GraphDriver) -> GraphDriver:
    # Both drivers start building their indices as soon as they are constructed inside
    # an event loop; wait for that instead of building twice.
    pending = getattr(driver, "_init_task", None)
    if pending is not None:
        await pending
    else:
        await driver.build_indices_and_constraints()
    return driver


class FalkorBackend:
    def __init__(self, graph_url: str, connect_timeout: float, query_timeout: float) -> None:
        parts = urlsplit(graph_url)
        if not parts.hostname:
            raise ValueError(f"graph URL {graph_url!r} names no host")
        self._options = {
            "host": parts.hostname,
            "port": parts.port or 6379,
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "socket_connect_timeout": connect_timeout,
            "socket_timeout": query_timeout,
        }
        self._client: FalkorDB | None = None
        self._client_lock = asyncio.Lock()

    async def driver(self, group_id: str) -> GraphDriver:
        client = await self._connected()
        return await _built(FalkorDriver(falkor_db=client, database=group_id))

    async def _connected(self) -> FalkorDB:
        async with self._client_lock:
            if self._client is None:
                # The constructor asks the server whether it is a cluster, synchronously:
                # off the event loop, so an unreachable server does not stall everyone else.
                self._client = await asyncio.to_thread(FalkorDB, **self._options)
            return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _BoundedNeo4jDriver(Neo4jDriver):
    """graphiti's Neo4j driver, on a client that gives up on an unreachable server in time.

    graphiti builds its client with the library's defaults, which wait 30 s for a
    connection and then retry every query for 30 s more.
    """

    def __init__(self, uri: str, user: str | None, password: str | None, timeout: float) -> None:
        super().__init__(uri, user, password)
        # Swapped before the index build graphiti just scheduled gets to run.
        self._default_client = self.client
        self.client = AsyncGraphDatabase.driver(
            uri, auth=(user or "", password or ""), connection_timeout=timeout, max_transaction_retry_time=timeout
        )

    async def close(self) -> None:
        await super().close()
        await self._default_client.close()


class Neo4jBackend:
    def __init__(self, graph_url: str, user: str | None, password: str | None, timeout: float) -> None:
        self._url = graph_url
        self._user = user
        self._password = password
        self._timeout = timeout
        self._driver: Neo4jDriver | None = None
        self._lock = asyncio.Lock()

    async def driver(self, group_id: str) -> GraphDriver:
        # One database for all groups: graphiti filters every query by group_id.
        async with self._lock:
            if self._driver is None:
                driver = _BoundedNeo4jDriver(self._url, self._user, self._password, self._timeout)
                try:
                    await _built(driver)
                except BaseException:
                    await driver.close()
                    raise
                self._driver = driver
            return self._driver

    async def close(self) -> None:
        if self._driver is not None:
            await self._driver.close()
            self._driver = None
