"""The dev server's dynamic configuration for latency, chosen by measurement (bench/turn_latency.py).

The dev server runs one history shard whose transfer queue (every workflow task and every
activity that is not dispatched eagerly passes through it) is polled at most 20 times a
second by default: each task then waits 20-35 ms in that queue, several times per turn,
and the same limit caps turns per second under load. Lifted, a transfer task waits
1-1.5 ms. Partitions, pollers and eager-activity reservations showed no gain here and are
left at their defaults.
"""

from __future__ import annotations

# Reads of the history shard's transfer queue per second (default 20).
TRANSFER_POLL_RPS = 10_000

LATENCY_DYNAMIC_CONFIG: dict[str, object] = {
    "history.transferProcessorMaxPollRPS": TRANSFER_POLL_RPS,
}


def dynamic_config_args(values: dict[str, object] | None = None) -> list[str]:
    """`--dynamic-config-value KEY=VALUE` arguments for `temporal server start-dev`."""
    args: list[str] = []
    for key, value in (LATENCY_DYNAMIC_CONFIG if values is None else values).items():
        rendered = "true" if value is True else "false" if value is False else str(value)
        args += ["--dynamic-config-value", f"{key}={rendered}"]
    return args
