"""The embedded services as child processes: start, wait until ready, stop the whole group."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final

log = logging.getLogger("stack.embedded")

HOST: Final = "127.0.0.1"
LOG_TAIL_LINES: Final = 40


class StackError(RuntimeError):
    """A service of the embedded stack could not be started or stopped."""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Without SO_REUSEADDR, sockets in TIME_WAIT from our own previous run would
        # count as "in use"; with it, only a live listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_answers_ping(port: int) -> bool:
    # A raw PING rather than a TCP connect: Redis accepts connections while it is
    # still replaying the append-only file, and answers -LOADING until it is done.
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def child_env() -> dict[str, str]:
    # TEMPORAL_* variables configure this project's clients (and possibly a remote
    # cluster, with TLS or an API key); the CLI would pick them up as its own options.
    return {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}


class ChildProcess:
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
                env=child_env(),
                start_new_session=True,
            )

    def check_alive(self) -> None:
        if self._proc is None:
            raise StackError(f"{self.name} was never started")
        code = self._proc.poll()
        if code is not None:
            raise StackError(
                f"{self.name} exited with code {code} during startup; "
                f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
            )

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            if ready():
                return
            if time.monotonic() > deadline:
                raise StackError(
                    f"{what} not ready after {timeout:.0f}s; last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def stop(self, grace: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            log.info("stopping %s (pid %d)", self.name, proc.pid)
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log.warning("%s did not exit within %.0fs of SIGTERM; killing it", self.name, grace)
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()

    @staticmethod
    def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
