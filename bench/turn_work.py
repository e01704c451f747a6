"""The memory work of one turn, counted: SQL statements, connection checkouts and CPU.

    python -m bench.turn_work [--turns 40] [--threads 3] [--warmup 6]

Runs the direct path of bench/turn_latency.py (the turn's activities as plain coroutine
calls, no Temporal) on the embedded stack and prints, per step of the turn, how many SQL
statements and pool checkouts it made and how much CPU this process spent. Counts do not
depend on what else the machine is doing, so they compare across runs and branches where
timings on a shared machine do not; wall time is printed beside them all the same.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.services import embedded_services
from bench.turn_latency import DirectTurn, message_text
from memory.core.refs import ThreadRef
from memory.runtime import MemoryRuntime

STEPS = ("append", "read", "generate", "commit")


@dataclass
class Tally:
    statements: int = 0
    checkouts: int = 0
    by_step: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0.0, 0.0]))
    step: str = "other"

    def charge(self, statements: int = 0, checkouts: int = 0) -> None:
        row = self.by_step[self.step]
        row[0] += statements
        row[1] += checkouts


def _instrument(runtime: MemoryRuntime, tally: Tally) -> None:
    engine = runtime.engine.sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        tally.charge(statements=1)

    @event.listens_for(engine.pool, "checkout")
    def _checkout(*_: Any) -> None:
        tally.charge(checkouts=1)


def _timed(tally: Tally, step: str, call: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
    async def run(request: Any) -> Any:
        if tally.step != "other":  # called from within another step (the commit's reply append)
            return await call(request)
        tally.step = step
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await call(request)
        finally:
            row = tally.by_step[step]
            row[2] += (time.process_time() - cpu) * 1000
            row[3] += (time.perf_counter() - wall) * 1000
            tally.step = "other"

    return run


async def run(args: argparse.Namespace) -> None:
    with embedded_services("turn-work-") as services:
        runtime = MemoryRuntime.create(services.settings())
        try:
            direct = DirectTurn(runtime)
            steps = direct.turn
            tally = Tally()
            # Each step's own entry point, wrapped on the objects the direct path calls.
            wrapped = {
                "append": (steps.conversation, "append_message"),
                "read": (steps.read, "read"),
                "generate": (steps.model, "generate"),
                "commit": (steps.commit, "commit"),
            }
            for step, (owner, name) in wrapped.items():
                object.__setattr__(owner, name, _timed(tally, step, getattr(owner, name)))
            _instrument(runtime, tally)
            tenant = f"work-{uuid.uuid4().hex[:8]}"
            threads = [ThreadRef(tenant_id=tenant, agent_id="bench", thread_id=f"t{i}") for i in range(args.threads)]
            for i in range(args.warmup):
                await direct.send(threads[i % args.threads], message_text(i))
            tally.by_step.clear()
            walls, cpus = [], []
            for i in range(args.turns):
                wall, cpu = time.perf_counter(), time.process_time()
                await direct.send(threads[i % args.threads], message_text(args.warmup + i))
                walls.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
        finally:
            await runtime.close()
    n = args.turns
    print(f"{n} direct turns over {args.threads} threads, {args.warmup} warm-up turns not counted; per turn:")
    print(f"{'step':<10}{'statements':>12}{'checkouts':>11}{'cpu ms':>9}{'wall ms':>9}")
    total = [0.0, 0.0]
    for step in (*STEPS, "other"):
        if step not in tally.by_step:
            continue
        statements, checkouts, cpu, wall = tally.by_step[step]
        total[0] += statements
        total[1] += checkouts
        print(f"{step:<10}{statements / n:>12.1f}{checkouts / n:>11.1f}{cpu / n:>9.1f}{wall / n:>9.1f}")
    print(f"{'turn':<10}{total[0] / n:>12.1f}{total[1] / n:>11.1f}{statistics.fmean(cpus):>9.1f}"
          f"{statistics.fmean(walls):>9.1f}   (wall p50 {statistics.median(walls):.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=6)
    args = parser.parse_args()
    if args.turns < 1 or args.threads < 1 or args.warmup < 0:
        parser.error("need --turns >= 1, --threads >= 1, --warmup >= 0")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
