"""What the memory work alone sustains: turns per second with no Temporal at all.

    python -m bench.direct_load [--threads 1,4,8] [--seconds 20]

Each of --threads tasks owns one thread and sends turns back to back for --seconds through
the direct path of bench/turn_latency.py: the turn's own activity code (user message,
agent version, reads of every layer, offline model call, commit) called as plain coroutines
on one runtime, on the embedded stack. No workflow, no server, no knowledge ingestion.

It prints turns/s, latency, this process's CPU per turn and the whole machine's (Postgres
included). Whatever the runtime adds, the product's turns per second on this machine cannot
exceed what this prints for the same threads: it is the ceiling bench/load.py is measured
against. On N cores the machine's CPU per turn bounds turns/s at N * 1000 / (ms per turn).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

from bench.services import embedded_services
from bench.turn_latency import DirectTurn, message_text
from memory.core.refs import ThreadRef
from memory.runtime import MemoryRuntime


def machine_busy_seconds() -> float:
    """CPU time every process on the machine spent, from /proc/stat (all cores, not idle)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


async def one_level(runtime: MemoryRuntime, threads: int, seconds: float) -> str:
    direct = DirectTurn(runtime)
    tenant = f"direct-{threads}t-{uuid.uuid4().hex[:6]}"
    refs = [ThreadRef(tenant_id=tenant, agent_id="bench", thread_id=f"t{i}") for i in range(threads)]
    for ref in refs:  # each thread's first turn opens it: not counted
        await direct.send(ref, message_text(0))
    latencies: list[float] = []

    async def sender(ref: ThreadRef, deadline: float) -> None:
        i = 1
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await direct.send(ref, message_text(i))
            latencies.append((time.perf_counter() - started) * 1000)
            i += 1

    cpu, machine, wall = time.process_time(), machine_busy_seconds(), time.monotonic()
    deadline = wall + seconds
    await asyncio.gather(*(sender(ref, deadline) for ref in refs))
    elapsed = time.monotonic() - wall
    turns = len(latencies)
    process_ms = (time.process_time() - cpu) * 1000 / turns
    machine_ms = (machine_busy_seconds() - machine) * 1000 / turns
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
    return (f"| {threads} | {turns} | {turns / elapsed:.1f} | {statistics.median(latencies):.0f} | {p95:.0f} | "
            f"{process_ms:.0f} | {machine_ms:.0f} | {os.cpu_count() * 1000 / machine_ms:.1f} |")


async def run(args: argparse.Namespace) -> None:
    with embedded_services("direct-load-") as services:
        runtime = MemoryRuntime.create(services.settings())
        try:
            print(f"direct path, offline model, embedded stack, {os.cpu_count()} cores, {args.seconds:.0f} s per level")
            print("| threads | turns | turns/s | p50 ms | p95 ms | this process CPU ms/turn | machine CPU ms/turn "
                  "| cores-bound turns/s |\n|---:|---:|---:|---:|---:|---:|---:|---:|")
            for threads in args.threads:
                print(await one_level(runtime, threads, args.seconds), flush=True)
        finally:
            await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,4,8", help="comma-separated thread counts, run one after the other")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    try:
        args.threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error("--threads takes comma-separated whole numbers, e.g. 1,4,8")
    if any(t < 1 for t in args.threads) or args.seconds <= 0:
        parser.error("need every thread count >= 1 and --seconds > 0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
