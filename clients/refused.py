"""How a client script reports input it refuses: one line, no traceback."""

from __future__ import annotations

import sys

from pydantic import ValidationError


def report_refused(err: Exception) -> int:
    """Print the first problem (with the field it was found in) on stderr; the exit status for refused input."""
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(map(str, first["loc"]))
        problem = first["msg"].removeprefix("Value error, ")
        message = f"{where}: {problem}" if where else problem
    else:
        message = str(err)
    print(f"error: {message}", file=sys.stderr)
    return 2
