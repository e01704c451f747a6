"""The client connection every script uses: the SDK's environment configuration (a profile of
TEMPORAL_CONFIG_FILE, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*),
with the worker's payload encryption (PAYLOAD_ENCRYPTION_KEYS) and tracing (OTEL_EXPORTER_OTLP_*)."""

from __future__ import annotations

from temporalio.client import Client

from memory.core.telemetry import configure_tracing
from wiring.temporal_client import ClientConfigError, client_options, connect_config


async def connect() -> Client:
    configure_tracing("agent-memory-client")
    try:
        config = connect_config()
        options = client_options()
    except ClientConfigError as err:
        raise SystemExit(f"error: {err}") from None
    address = config["target_host"]
    try:
        return await Client.connect(**config, **options)
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
