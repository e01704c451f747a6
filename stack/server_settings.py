"""The dev server's dynamic configuration for latency, chosen by measurement (bench/turn_latency.py).

The dev server runs one history shard whose transfer queue (every workflow task and every
activity that is not dispatched eagerly passes through it) is polled at most 20 times a
second by default: each task then waits 20-35 ms in that queue, several times per turn,
and the same limit caps turns per second under load. Lifted, a transfer task waits
1-1.5 ms. Partitions, pollers and eager-activity reservations showed no gain here and are
left at their defaults.
"""

from __future__ import annotations

import json

# Reads of the history shard's transfer queue per second (default 20).
TRANSFER_POLL_RPS = 10_000
# How often the transfer and visibility queues record how far they got (default 30 s). A
# deleted execution (a forget) is only removed once the visibility queue's recorded level
# passes the execution's close: 33-35 s per deletion at the default, 0.2 s at 1 s
# (measured with a no-op workflow on the dev server). One small write per queue a second.
ACK_INTERVAL = "1s"

LATENCY_DYNAMIC_CONFIG: dict[str, object] = {
    "history.transferProcessorMaxPollRPS": TRANSFER_POLL_RPS,
    "history.transferProcessorUpdateAckInterval": ACK_INTERVAL,
    "history.visibilityProcessorUpdateAckInterval": ACK_INTERVAL,
}


def dynamic_config_args(values: dict[str, object] | None = None) -> list[str]:
    """`--dynamic-config-value KEY=VALUE` arguments for `temporal server start-dev`."""
    args: list[str] = []
    for key, value in (LATENCY_DYNAMIC_CONFIG if values is None else values).items():
        # Values are JSON: a duration is a quoted string ("1s").
        rendered = "true" if value is True else "false" if value is False else json.dumps(value)
        args += ["--dynamic-config-value", f"{key}={rendered}"]
    return args
