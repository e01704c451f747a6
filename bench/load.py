"""A bounded load test: concurrent threads sending turns back to back for a fixed time.

    python -m bench.load [--threads 1,4,8,16] [--duration 30] [--tenants 4] [--drain-timeout 180] [--strict]

Runs on the embedded stack (Postgres and FalkorDB in a temp dir, Temporal dev server,
in-process worker, offline model, embedder and graph extractor). Each of --threads
client tasks owns one conversation thread (spread over --tenants tenants and two
agents) and sends turns through `send_message` one after another until --duration
seconds have passed; a turn in flight at the deadline is finished and counted. The
messages rotate through a short question (below the ingestion length gate), a longer
statement the offline extractor turns into graph facts, a `run: ls` tool turn, and a
follow-up question, so every layer, the tool loop, the conversation summary and the
graph ingestion all run under load.

After the run it waits (at most --drain-timeout seconds) for every turn's
`ingest/<tenant>/<agent>/<thread>/turn-<n>` workflow to close, then counts the rows each
thread left behind: two messages, one `turns` row, one recall exchange and one episode
per completed turn, at least one `agent_turn` usage-ledger row per turn, no idempotency
key (and no thread/turn/role) stored twice, and turn numbers 1..n with no gap. It prints
a throughput and latency table (one row per --threads level, run one after the other, with
the worker's and the Temporal server's CPU seconds per turn: on two cores, their sum sets
the ceiling on turns per second) and a row-count table with OK/MISMATCH per thread.
--strict exits 1 on any turn error, row mismatch or ingestion still running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import text
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from bench.services import Services, embedded_services, start_temporal_dev_server
from clients.conversation import send_message
from contract.conversation import UserMessage
from contract.ingestion import exchange_ingestion_id
from contract.search_attributes import INGESTION_OUTCOME
from memory.core.refs import ThreadRef
from memory.runtime import MemoryRuntime
from worker import build_worker

AGENTS = ("support", "ops")
# A turn that takes longer than this is given up on by its client and counted as an error.
TURN_TIMEOUT_S = 120.0
DRAIN_CONCURRENCY = 32

_PEOPLE = ("Dana Ortiz", "Malik Chen", "Priya Natarajan", "Tomas Keller", "Ines Duarte", "Kenji Mori")
_COMPANIES = ("Globex", "Initech", "Umbrella Labs", "Hooli", "Vandelay Industries", "Stark Logistics")
_CITIES = ("Lisbon", "Osaka", "Toronto", "Nairobi", "Berlin", "Bogota")
_TOOLS = ("Postgres", "Kafka", "Terraform", "Grafana", "Redis", "Airflow")
_TOPICS = ("billing export", "SSO login", "webhook retries", "data retention", "rate limits", "audit log")


def message_text(thread_index: int, k: int) -> str:
    """The k-th message of a thread: four kinds in rotation, varied by thread and turn."""
    i = thread_index * 7 + k
    person, company = _PEOPLE[i % len(_PEOPLE)], _COMPANIES[(i // 2) % len(_COMPANIES)]
    city, tool, topic = _CITIES[(i // 3) % len(_CITIES)], _TOOLS[(i // 5) % len(_TOOLS)], _TOPICS[i % len(_TOPICS)]
    kind = k % 4
    if kind == 0:
        return f"Quick one ({k}): is {topic} on for us?"
    if kind == 1:
        # Above the length gate: summarised into an episode and ingested into the graph.
        return (
            f"For the record, turn {k}: {person} works at {company}. {person} is based in {city}. "
            f"{company} uses {tool} for the {topic} pipeline, and the team wants that remembered."
        )
    if kind == 2:
        return "run: ls"
    return f"What did we say earlier about {person} and the {topic}? (turn {k})"


def error_kind(err: BaseException) -> str:
    if isinstance(err, WorkflowUpdateFailedError):
        cause = err.cause
        if isinstance(cause, ApplicationError):
            return f"update failed: {cause.type or 'ApplicationError'}"
        return f"update failed: {type(cause).__name__}"
    if isinstance(err, RPCError):
        return f"RPCError {err.status.name}"
    if isinstance(err, TimeoutError):
        return f"client timeout ({TURN_TIMEOUT_S:.0f} s)"
    return type(err).__name__


@dataclass
class ThreadLoad:
    index: int
    thread: ThreadRef
    latencies_ms: list[float] = field(default_factory=list)
    turn_numbers: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)


async def drive(client: Client, task_queue: str, load: ThreadLoad, deadline: float) -> None:
    k = 0
    while time.perf_counter() < deadline:
        message = UserMessage(text=message_text(load.index, k))
        k += 1
        started = time.perf_counter()
        try:
            result = await asyncio.wait_for(
                send_message(client, load.thread, message, task_queue=task_queue), TURN_TIMEOUT_S
            )
        except Exception as err:  # counted by kind; the thread goes on with its next message
            kind = error_kind(err)
            load.errors[kind] += 1
            load.first_error.setdefault(kind, str(err)[:200])
            await asyncio.sleep(0.1)
            continue
        load.latencies_ms.append((time.perf_counter() - started) * 1000)
        load.turn_numbers.append(result.turn)


class ActivityFailures(logging.Handler):
    """Counts activity attempts that failed and were left to Temporal to retry: a turn can
    still succeed after them, so they are not turn errors, but they are worth seeing."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.kinds: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not str(record.msg).startswith("Completing activity as failed"):
            return
        activity = (getattr(record, "temporal_activity", None) or {}).get("activity_type", "?")
        err = record.exc_info[1] if record.exc_info else None
        name = type(err).__name__ if err else "?"
        if isinstance(err, ApplicationError) and err.type:
            name = f"{name} {err.type}"
        root = err
        while root is not None and (root.__cause__ or root.__context__) is not None:
            root = root.__cause__ or root.__context__
        if root is not None and root is not err:
            name += f" <- {type(root).__name__}"
        kind = f"{activity}: {name}"
        self.kinds[kind] += 1
        self.first.setdefault(kind, " ".join(str(err).split())[:160] if err else "")


@dataclass
class Drained:
    closed: Counter[str]
    outcomes: Counter[str]
    pending: list[str]
    seconds: float


async def drain_ingestions(client: Client, ids: list[str], timeout_s: float) -> Drained:
    """Poll each turn's ingestion workflow until it has closed (or the time is up).

    A workflow not found yet counts as pending: the conversation starts it after the reply."""
    started = time.perf_counter()
    pending = set(ids)
    closed: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(DRAIN_CONCURRENCY)

    async def check(workflow_id: str) -> None:
        async with gate:
            try:
                description = await client.get_workflow_handle(workflow_id).describe()
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    return
                raise
        if description.status in (None, WorkflowExecutionStatus.RUNNING):
            return
        pending.discard(workflow_id)
        closed[description.status.name.lower()] += 1
        outcomes[description.typed_search_attributes.get(INGESTION_OUTCOME) or "(none)"] += 1

    while pending and time.perf_counter() - started < timeout_s:
        await asyncio.gather(*(check(w) for w in sorted(pending)))
        if pending:
            await asyncio.sleep(0.5)
    return Drained(closed=closed, outcomes=outcomes, pending=sorted(pending), seconds=time.perf_counter() - started)


# Per thread: rows, distinct idempotency keys, distinct logical keys (and extra columns).
ROW_QUERIES = {
    "messages": """
        SELECT tenant_id, agent_id, thread_id, count(*), count(DISTINCT idempotency_key),
               count(DISTINCT (turn, role))
        FROM messages WHERE tenant_id = ANY(:tenants) GROUP BY 1, 2, 3""",
    "turns": """
        SELECT tenant_id, agent_id, thread_id, count(*) FILTER (WHERE status = 'completed'),
               count(DISTINCT idempotency_key), count(DISTINCT turn), count(*)
        FROM turns WHERE tenant_id = ANY(:tenants) GROUP BY 1, 2, 3""",
    "recall_items": """
        SELECT tenant_id, agent_id, thread_id, count(*), count(DISTINCT idempotency_key), count(*)
        FROM recall_items WHERE tenant_id = ANY(:tenants) AND source_type = 'exchange' GROUP BY 1, 2, 3""",
    "episodes": """
        SELECT tenant_id, agent_id, thread_id, count(*), count(DISTINCT idempotency_key), count(DISTINCT turn)
        FROM episodes WHERE tenant_id = ANY(:tenants) GROUP BY 1, 2, 3""",
    "usage_ledger": """
        SELECT tenant_id, agent_id, thread_id, count(*), count(DISTINCT idempotency_key), count(*)
        FROM usage_ledger WHERE tenant_id = ANY(:tenants) AND action = 'agent_turn' GROUP BY 1, 2, 3""",
}


@dataclass
class Rows:
    count: int = 0
    duplicate_keys: int = 0
    duplicate_logical: int = 0
    # turns only: rows of any status (a failed turn is recorded too)
    all_rows: int = 0


async def row_counts(runtime: MemoryRuntime, tenants: list[str]) -> dict[tuple[str, str, str], dict[str, Rows]]:
    found: dict[tuple[str, str, str], dict[str, Rows]] = {}
    async with runtime.engine.connect() as conn:
        for table, sql in ROW_QUERIES.items():
            for row in await conn.execute(text(sql), {"tenants": tenants}):
                tenant, agent, thread, count, keys, logical, *rest = row
                total = rest[0] if rest else count
                found.setdefault((tenant, agent, thread), {})[table] = Rows(
                    count=int(count),
                    duplicate_keys=int(total) - int(keys),
                    duplicate_logical=int(total) - int(logical) if table != "usage_ledger" else 0,
                    all_rows=int(total),
                )
    return found


def percentile(sorted_ms: list[float], q: int) -> float:
    if not sorted_ms:
        return float("nan")
    if len(sorted_ms) == 1:
        return sorted_ms[0]
    return statistics.quantiles(sorted_ms, n=100, method="inclusive")[q - 1]


def _server_pids() -> list[int]:
    """The Temporal dev server this process started (a child process running `start-dev`)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if ppid == os.getpid() and b"start-dev" in cmdline:
            pids.append(int(entry))
    return pids


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its reaped children, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Level:
    threads: int
    loads: list[ThreadLoad]
    elapsed_s: float
    worker_cpu_s: float
    server_cpu_s: float


def print_load_table(args: argparse.Namespace, levels: list[Level]) -> None:
    print(f"\n{args.tenants} tenants x {len(AGENTS)} agents, offline model, in-process worker, embedded stack; "
          f"CPU per turn: this process (client and worker) and the Temporal server\n")
    print("| threads | duration s | turns completed | turns/s | p50 ms | p95 ms | p99 ms | errors "
          "| worker CPU ms/turn | server CPU ms/turn |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level in levels:
        loads, elapsed_s = level.loads, level.elapsed_s
        samples = sorted(ms for load in loads for ms in load.latencies_ms)
        errors: Counter[str] = sum((load.errors for load in loads), Counter())
        turns = len(samples)
        per_turn = lambda cpu: f"{1000 * cpu / turns:.1f}" if turns else "-"  # noqa: E731
        print(
            f"| {level.threads} | {elapsed_s:.1f} | {turns} | {turns / elapsed_s:.2f} | "
            f"{percentile(samples, 50):.1f} | {percentile(samples, 95):.1f} | {percentile(samples, 99):.1f} | "
            f"{sum(errors.values())} | {per_turn(level.worker_cpu_s)} | {per_turn(level.server_cpu_s)} |"
        )
    loads = [load for level in levels for load in level.loads]
    errors = sum((load.errors for load in loads), Counter())
    if errors:
        first: dict[str, str] = {}
        for load in loads:
            for kind, message in load.first_error.items():
                first.setdefault(kind, message)
        print("\nerrors by kind:")
        for kind, n in errors.most_common():
            print(f"- {kind}: {n} (first: {first[kind]})")


def check_thread(load: ThreadLoad, rows: dict[str, Rows]) -> tuple[list[str], bool]:
    n = load.completed
    get = lambda table: rows.get(table, Rows())  # noqa: E731
    cells: list[str] = []
    ok = True

    def cell(value: int, want: int, *, at_least: bool = False) -> None:
        nonlocal ok
        good = value >= want if at_least else value == want
        ok &= good
        cells.append(str(value) if good else f"{value} (want {'>=' if at_least else ''}{want})")

    cell(get("messages").count, 2 * n)
    cell(get("turns").count, n)
    failed_rows = get("turns").all_rows - get("turns").count
    cell(get("recall_items").count, n)
    cell(get("episodes").count, n)
    cell(get("usage_ledger").count, n, at_least=True)
    duplicates = sum(r.duplicate_keys + r.duplicate_logical for r in rows.values())
    ok &= duplicates == 0
    cells.append(str(duplicates))
    contiguous = sorted(load.turn_numbers) == list(range(1, n + 1))
    ok &= contiguous
    cells.append("1..n" if contiguous else "GAP")
    if failed_rows:
        cells[1] += f" (+{failed_rows} failed)"
    return cells, ok


def print_rows_table(loads: list[ThreadLoad], found: dict[tuple[str, str, str], dict[str, Rows]]) -> bool:
    print("\n| thread | turns done | messages (2n) | turns rows (n) | recall exchanges (n) | episodes (n) "
          "| agent_turn ledger (>=n) | duplicates | turn numbers | status |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    all_ok = True
    totals: dict[str, Rows] = {table: Rows() for table in ROW_QUERIES}
    for load in loads:
        t = load.thread
        rows = found.get((t.tenant_id, t.agent_id, t.thread_id), {})
        for table, r in rows.items():
            totals[table].count += r.count
            totals[table].all_rows += r.all_rows
            totals[table].duplicate_keys += r.duplicate_keys
            totals[table].duplicate_logical += r.duplicate_logical
        cells, ok = check_thread(load, rows)
        all_ok &= ok
        name = f"{t.tenant_id}/{t.agent_id}/{t.thread_id}"
        print(f"| {name} | {load.completed} | " + " | ".join(cells) + f" | {'OK' if ok else 'MISMATCH'} |")
    n = sum(load.completed for load in loads)
    duplicates = sum(r.duplicate_keys + r.duplicate_logical for r in totals.values())
    print(
        f"| **all** | {n} | {totals['messages'].count} | {totals['turns'].count} | {totals['recall_items'].count} "
        f"| {totals['episodes'].count} | {totals['usage_ledger'].count} | {duplicates} | | "
        f"{'OK' if all_ok else 'MISMATCH'} |"
    )
    print("\nidempotency keys per table (all load tenants): "
          + ", ".join(f"{table} {r.all_rows - r.duplicate_keys}/{r.all_rows} distinct" for table, r in totals.items()))
    return all_ok


async def run(args: argparse.Namespace, services: Services, scratch: str) -> bool:
    env = await start_temporal_dev_server()
    # The tool turns run `ls` in a scratch directory per thread: keep those out of the checkout.
    runtime = MemoryRuntime.create(services.settings().model_copy(update={"tool_scratch_root": scratch}))
    failures = ActivityFailures()
    activity_logger = logging.getLogger("temporalio.activity")
    activity_logger.addHandler(failures)
    try:
        client: Client = env.client
        run_id = uuid.uuid4().hex[:8]
        tenants: list[str] = []
        levels: list[Level] = []
        server = _server_pids()
        closed_all: Counter[str] = Counter()
        outcomes_all: Counter[str] = Counter()
        task_queue = f"bench-load-{run_id}"
        async with build_worker(client, runtime, task_queue=task_queue):
            for threads in args.threads:
                level_tenants = [f"load{k}-{threads}t-{run_id}" for k in range(min(args.tenants, threads))]
                tenants += level_tenants
                loads = [
                    ThreadLoad(
                        index=i,
                        thread=ThreadRef(
                            tenant_id=level_tenants[i % len(level_tenants)],
                            agent_id=AGENTS[(i // len(level_tenants)) % len(AGENTS)],
                            thread_id=f"t{i}",
                        ),
                    )
                    for i in range(threads)
                ]
                print(f"running {threads} threads for {args.duration:.0f} s ...", flush=True)
                cpu_before = time.process_time(), sum(_cpu_seconds(pid) for pid in server)
                started = time.perf_counter()
                deadline = started + args.duration
                await asyncio.gather(*(drive(client, task_queue, load, deadline) for load in loads))
                elapsed = time.perf_counter() - started
                ids = [exchange_ingestion_id(load.thread, turn) for load in loads for turn in load.turn_numbers]
                print(f"load done after {elapsed:.1f} s; waiting for {len(ids)} ingestion workflows ...", flush=True)
                drained = await drain_ingestions(client, ids, args.drain_timeout)
                # Background work is part of a turn's cost: CPU is counted until it has drained.
                worker_cpu = time.process_time() - cpu_before[0]
                server_cpu = sum(_cpu_seconds(pid) for pid in server) - cpu_before[1]
                levels.append(Level(threads, loads, elapsed, worker_cpu, server_cpu))
                closed_all.update(drained.closed)
                outcomes_all.update(drained.outcomes)
                if drained.pending:
                    break
        loads = [load for level in levels for load in level.loads]
        drained = Drained(closed=closed_all, outcomes=outcomes_all, pending=drained.pending, seconds=drained.seconds)

        print_load_table(args, levels)
        print(
            f"\ningestion workflows: {sum(drained.closed.values())} closed "
            f"({', '.join(f'{k} {v}' for k, v in sorted(drained.closed.items())) or 'none'}) "
            f"in {drained.seconds:.1f} s after the load; {len(drained.pending)} still running or not started"
        )
        if drained.outcomes:
            print("ingestion outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(drained.outcomes.items())))
        for workflow_id in drained.pending[:5]:
            print(f"- pending: {workflow_id}")
        retried = sum(failures.kinds.values())
        print(f"activity attempts failed and retried by Temporal (not turn errors): {retried}")
        for kind, n in failures.kinds.most_common():
            print(f"- {kind}: {n} (first: {failures.first[kind]})")
        rows_ok = print_rows_table(loads, await row_counts(runtime, tenants))
        errors = sum(sum(load.errors.values()) for load in loads)
        ingestion_ok = not drained.pending and set(drained.closed) <= {"completed"}
        print(
            f"\nresult: {'OK' if rows_ok and not errors and ingestion_ok else 'FAIL'} "
            f"(errors {errors}, rows {'OK' if rows_ok else 'MISMATCH'}, "
            f"ingestion {'drained' if ingestion_ok else 'NOT drained or not all completed'})"
        )
        return rows_ok and not errors and ingestion_ok
    finally:
        activity_logger.removeHandler(failures)
        await runtime.close()
        await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=lambda v: [int(n) for n in v.split(",")], default=[1, 4, 8, 16],
                        help="concurrent conversation threads, one client each; a comma-separated list runs each level")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds to keep sending turns, per level")
    parser.add_argument("--tenants", type=int, default=4, help="tenants the threads are spread over")
    parser.add_argument("--drain-timeout", type=float, default=180.0,
                        help="seconds to wait for background ingestion after the load")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 on any error, row mismatch or ingestion left running")
    args = parser.parse_args()
    if min(args.threads) < 1 or args.tenants < 1 or args.duration <= 0 or args.drain_timeout < 0:
        parser.error("need --threads >= 1, --tenants >= 1, --duration > 0, --drain-timeout >= 0")
    with tempfile.TemporaryDirectory(prefix="load-scratch-") as scratch:
        with embedded_services("load-") as services:
            ok = asyncio.run(run(args, services, scratch))
    if args.strict and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
