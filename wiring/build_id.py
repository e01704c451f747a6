"""The worker's build id, from the project's own source.

Without one, the SDK derives it by hashing the bytecode of every loaded module; where no
bytecode cache exists (read-only or `PYTHONDONTWRITEBYTECODE` installs) that means compiling
some five thousand modules, 20-40 s on two cores, at every worker start. Our own source is
what changes a workflow's behaviour between deployments, so its digest names a build as
well, in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("workflows", "activities", "contract", "memory", "wiring", "codec")
OVERRIDE_VARIABLE = "WORKER_BUILD_ID"


@cache
def worker_build_id() -> str:
    """`WORKER_BUILD_ID` when set (a release tag, a commit), else a digest of the source."""
    if override := os.environ.get(OVERRIDE_VARIABLE, "").strip():
        return override
    digest = hashlib.sha256()
    for package in SOURCE_PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return f"agent-memory-{digest.hexdigest()[:16]}"
