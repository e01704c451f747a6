"""What the Temporal dev server spends per turn, with and without the ingestion child.

    python -m bench.floor_load [--threads 8] [--seconds 15] [--rounds 2]

Threads send floor turns (bench/floor.py: a no-op workflow of the turn's shape) back to
back for --seconds: without a child, with the per-turn child that stands for a short
exchange's knowledge ingestion (two local activities), and with that child as it was before
the ingestion-local-steps patch (two activities through the server), and with the child
started by the commit step as a workflow of its own, in turn for --rounds.
Prints turns/s and the dev server's CPU per turn for each: what the runtime's own
orchestration costs before any memory work, and how much of it the child started by every
turn takes.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from temporalio.client import Client

from bench.floor import CHILD_SHAPES, floor_child_done, floor_worker, send_floor
from bench.load import _cpu_seconds, _server_pids
from bench.services import start_temporal_dev_server


async def turns_until(client: Client, task_queue: str, deadline: float, child: str) -> int:
    thread_id = uuid.uuid4().hex[:8]
    done = 0
    while time.monotonic() < deadline:
        await send_floor(client, task_queue, thread_id, "turn", child=child)
        done += 1
    if child != "none":
        # The burst's children finish on the background queue: their cost counts too, and the
        # next burst must not pay for them.
        for turn in range(1, done + 1):
            await floor_child_done(client, thread_id, turn)
    return done


async def run(args: argparse.Namespace) -> None:
    env = await start_temporal_dev_server()
    try:
        (server,) = _server_pids()
        task_queue = f"floor-load-{uuid.uuid4().hex[:6]}"
        print("| child per turn | threads | turns/s | server CPU ms/turn |\n|---|---:|---:|---:|")
        shapes = {"none": "none", "local": "local steps (now)", "remote": "remote steps (before)",
                  "started": "started by the commit step, not a child"}
        async with floor_worker(env.client, task_queue):
            for _ in range(args.rounds):
                for child in CHILD_SHAPES:
                    cpu_before = _cpu_seconds(server)
                    deadline = time.monotonic() + args.seconds
                    counts = await asyncio.gather(
                        *(turns_until(env.client, task_queue, deadline, child) for _ in range(args.threads))
                    )
                    turns = sum(counts)
                    cpu_ms = (_cpu_seconds(server) - cpu_before) * 1000
                    print(f"| {shapes[child]} | {args.threads} | {turns / args.seconds:.1f} | "
                          f"{cpu_ms / turns:.1f} |", flush=True)
    finally:
        await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.threads < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("need --threads >= 1, --seconds > 0, --rounds >= 1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
