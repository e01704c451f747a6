"""The client connection every script uses: the SDK's environment configuration (a profile of
TEMPORAL_CONFIG_FILE, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*),
with the worker's payload encryption (PAYLOAD_ENCRYPTION_KEYS) and tracing (OTEL_EXPORTER_OTLP_*)."""

from __future__ import annotations

import atexit
import gc

from temporalio.client import Client
from temporalio.exceptions import FailureError

from memory.core.telemetry import configure_tracing, shutdown_tracing
from wiring.temporal_client import ClientConfigError, client_options, connect_config

_release_registered = False


async def connect() -> Client:
    configure_tracing("agent-memory-client")
    _release_at_exit()
    try:
        config = connect_config()
        options = client_options()
    except ClientConfigError as err:
        raise SystemExit(f"error: {err}") from None
    address = config["target_host"]
    try:
        return await Client.connect(**{**config, **options})
    except Exception as err:
        raise SystemExit(
            f"error: cannot reach Temporal at {address} (set TEMPORAL_ADDRESS): {err}. "
            "Is the worker running? Start it with `uv run python worker.py --dev`."
        ) from None


def _release_at_exit() -> None:
    """Free the client's native connection while the interpreter is still whole.

    A finished script leaves its client unreachable but alive in reference cycles (an
    RPC error's traceback holds the frames that hold the connection). Left alone, the
    collector frees it during interpreter finalization, and the SDK's native connection,
    dropped then, races the dying interpreter: about one exit in eight segfaults or aborts
    after the script's output is printed. atexit handlers run before finalization, so
    collecting there drops the connection while it can still be dropped cleanly, and the
    span exporter (when tracing is on) flushes while its thread can still send.
    """
    global _release_registered
    if not _release_registered:
        atexit.register(release_connections)
        _release_registered = True


def release_connections() -> None:
    shutdown_tracing()
    gc.collect()


def failure_reason(err: BaseException) -> str:
    """The innermost cause of a failed workflow: the activity's own message, not "Activity task failed"."""
    while getattr(err, "cause", None) is not None:
        err = err.cause
    # An ApplicationError's str() leads with its type ("InvalidInput: ..."); the other
    # clients print the message alone.
    return err.message if isinstance(err, FailureError) else str(err)
