"""A throwaway FalkorDB (Redis with the FalkorDB module) on a free port: for tests,
benchmarks and recording histories. The long-lived one is in stack/embedded.py."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stack.embedded import falkordb_binaries, redis_answers_ping

_HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def falkordb_server(directory: Path, *, startup_timeout: float = 20.0) -> Iterator[int]:
    """Start FalkorDB with its files in directory; yield its port; stop it on exit."""
    server, module = falkordb_binaries()
    port = _free_port()
    process = subprocess.Popen(
        [server, "--loadmodule", module, "--port", str(port), "--bind", _HOST, "--dir", str(directory),
         "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while not redis_answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"FalkorDB did not start on port {port}")
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
