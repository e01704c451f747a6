"""The client connection every script uses: TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, with the
worker's payload encryption (PAYLOAD_ENCRYPTION_KEYS) and tracing (OTEL_EXPORTER_OTLP_*)."""

from __future__ import annotations

import os

from temporalio.client import Client

from memory.core.telemetry import configure_tracing
from wiring.temporal_client import ClientConfigError, client_options


async def connect() -> Client:
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    configure_tracing("agent-memory-client")
    try:
        options = client_options()
    except ClientConfigError as err:
        raise SystemExit(f"error: {err}") from None
    try:
        return await Client.connect(address, namespace=namespace, **options)
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
