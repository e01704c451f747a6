"""The client connection every script uses: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE."""

from __future__ import annotations

import os

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect() -> Client:
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    try:
        return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)
    except Exception as err:
        raise SystemExit(
            f"error: cannot reach Temporal at {address} (set TEMPORAL_ADDRESS): {err}. "
            "Is the worker running? Start it with `uv run python worker.py --dev`."
        ) from None


def failure_reason(err: BaseException) -> str:
    """The innermost cause of a failed workflow: the activity's own message, not "Activity task failed"."""
    while getattr(err, "cause", None) is not None:
        err = err.cause
    return str(err)
