"""Turn latency through Temporal, beside the same memory calls made directly and beside the floor.

    python -m bench.turn_latency [--turns 60] [--threads 3] [--warmup 3] [--server-defaults] [--strict]

Runs on the embedded stack (Postgres and FalkorDB in a temp dir, Temporal dev server,
in-process worker, offline model, embedder and graph extractor) and reports whether
Temporal adds no more than 50 ms p50 per turn over the direct calls measured in the
same run. Three paths, interleaved turn by turn so drift hits all alike:

- floor: a workflow of the turn's shape whose activities do nothing (bench/floor.py), on a
  worker with the product's workflow runner: what Temporal costs per turn on this machine
  before any memory work;
- temporal: the product's turn (send_message), reads of all seven layers included;
- direct: the same activities' code called as plain coroutines on one runtime.

Each turn starts background work (the knowledge-ingestion child; the floor's no-op child).
The next path is timed only once that work has finished and its parent has taken note of it
(no workflow task pending), so the direct path is never
charged with the Temporal path's background work nor the other way round (bench/load.py
measures everything running together). --server-defaults runs the dev server without the
embedded stack's latency settings (stack/server_settings.py), to show what they buy.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid

from sqlalchemy import text
from temporalio.client import Client

from activities.agents import AgentActivities
from activities.learning_models import SessionRef
from activities.registry import TurnActivitySet
from activities.turn_models import AppendMessageInput, GenerateInput
from activities.turn_step_models import TurnCommitInput, TurnReadInput
from bench.floor import floor_child_done, floor_worker, send_floor, workflow_done
from bench.services import Services, embedded_services, start_temporal_dev_server
from clients.conversation import send_message
from contract.conversation import ConversationLimits, TurnResult, UserMessage
from contract.ingestion import exchange_ingestion_id
from memory.core.refs import ThreadRef
from memory.runtime import MemoryRuntime
from worker import build_worker

TARGET_OVERHEAD_MS = 50.0
# The between-turns summary runs after the update has replied and would overlap the next
# measured call; it is not part of a turn, so neither side runs it.
LIMITS = ConversationLimits(summary_trigger_tokens=10**9)
TOPICS = ("billing export", "SSO login", "webhook retries", "data retention", "rate limits", "audit log")


def message_text(i: int) -> str:
    return f"Question {i}: how should we configure {TOPICS[i % len(TOPICS)]} for the EU workspace?"


class DirectTurn:
    """The workflow's turn up to its reply, step by step, as plain coroutine calls on one
    runtime: the same activity objects the worker registers. It starts no knowledge
    ingestion: the reply does not wait for that either."""

    def __init__(self, runtime: MemoryRuntime) -> None:
        self.turn = TurnActivitySet.wire(runtime)
        self.agents = AgentActivities(runtime)
        self._last_turn: dict[ThreadRef, int] = {}

    async def send(self, thread: ThreadRef, text_: str) -> None:
        steps = self.turn
        if thread not in self._last_turn:
            # The workflow asks the store for the last turn once per run, inside its first turn.
            self._last_turn[thread] = await steps.conversation.open(thread)
        turn = self._last_turn[thread] = self._last_turn[thread] + 1
        user = await steps.conversation.append_message(
            AppendMessageInput(thread=thread, turn=turn, role="user", content=text_)
        )
        # The workflow resolves the agent version that answers the turn first (its limits apply).
        await self.agents.answering(thread.agent)
        read = await steps.read.read(
            TurnReadInput(thread=thread, turn=turn, query=text_, user_message_id=user.id, session=SessionRef(thread=thread))
        )
        manifest = read.manifest()
        reply = await steps.model.generate(
            GenerateInput(thread=thread, turn=turn, iteration=0, manifest=manifest, user_message_id=user.id,
                          tools_enabled=LIMITS.max_tool_iterations > 0, learned=read.learned.entries)
        )
        if reply.tool_calls:
            raise RuntimeError("benchmark messages must not trigger tool calls: the two paths would diverge")
        result = TurnResult(reply=reply.text, workflow_id="direct", turn=turn, manifest=manifest, usage=reply.usage,
                            provider=reply.provider, model=reply.model, user_message_id=user.id, assistant_message_id=0)
        await steps.commit.commit(
            TurnCommitInput(thread=thread, turn=turn, user_message_id=user.id, reply=reply.text, manifest=manifest,
                            usage=reply.usage, result=result, billing=read.billing, user_text=text_,
                            user_sent_at=user.created_at)
        )


async def no_pending_workflow_task(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    while (await handle.describe()).raw_description.HasField("pending_workflow_task"):
        await asyncio.sleep(0.002)


def summary(label: str, samples_ms: list[float]) -> tuple[float, str]:
    p50 = statistics.median(samples_ms)
    p95 = statistics.quantiles(samples_ms, n=20, method="inclusive")[18]
    row = f"{label:<12}{len(samples_ms):>6}{p50:>10.1f}{p95:>10.1f}{statistics.fmean(samples_ms):>10.1f}"
    return p50, row


async def row_counts(runtime: MemoryRuntime, tenant_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with runtime.engine.connect() as conn:
        for table in ("messages", "recall_items", "turns"):
            result = await conn.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id})
            counts[table] = int(result.scalar_one())
    return counts


async def run(args: argparse.Namespace, services: Services) -> bool:
    env = await start_temporal_dev_server(tuned=not args.server_defaults)
    runtime = MemoryRuntime.create(services.settings())
    try:
        client: Client = env.client
        direct = DirectTurn(runtime)
        run_id = uuid.uuid4().hex[:8]

        def threads(prefix: str) -> list[ThreadRef]:
            tenant = f"{prefix}-{run_id}"
            return [ThreadRef(tenant_id=tenant, agent_id="bench", thread_id=f"t{i}") for i in range(args.threads)]

        task_queue = f"bench-{run_id}"
        floor_queue = f"floor-{run_id}"
        samples: dict[str, list[float]] = {"floor": [], "temporal": [], "direct": []}
        sandboxed = runtime.settings.workflow_sandbox
        async with build_worker(client, runtime, task_queue=task_queue), floor_worker(client, floor_queue, sandboxed):

            async def via_floor(thread: ThreadRef, text_: str) -> object:
                return await send_floor(client, floor_queue, f"{thread.tenant_id}/{thread.thread_id}", text_)

            async def floor_settled(thread: ThreadRef, turn: object) -> None:
                await floor_child_done(client, f"{thread.tenant_id}/{thread.thread_id}", int(turn))
                await no_pending_workflow_task(client, f"floor/{thread.tenant_id}/{thread.thread_id}")

            async def via_temporal(thread: ThreadRef, text_: str) -> object:
                return await send_message(client, thread, UserMessage(text=text_), task_queue=task_queue, limits=LIMITS)

            async def temporal_settled(thread: ThreadRef, result: object) -> None:
                assert isinstance(result, TurnResult)
                await workflow_done(client, exchange_ingestion_id(thread, result.turn))
                # The conversation then takes note of its child's completion in a workflow task
                # of its own: that is background work too.
                await no_pending_workflow_task(client, result.workflow_id)

            async def nothing_in_flight(thread: ThreadRef, result: object) -> None:
                return None

            paths = {
                "floor": (via_floor, floor_settled),
                "temporal": (via_temporal, temporal_settled),
                "direct": (direct.send, nothing_in_flight),
            }
            for phase, count in (("warmup", args.warmup), ("measure", args.turns)):
                tenants = {name: threads(f"{phase}-{name}") for name in paths}
                for i in range(count):
                    for name, (send, settled) in paths.items():
                        thread = tenants[name][i % args.threads]
                        started = time.perf_counter()
                        result = await send(thread, message_text(i))
                        if phase == "measure":
                            samples[name].append((time.perf_counter() - started) * 1000)
                        # Background work of this turn ends before the next path is timed.
                        await settled(thread, result)
            measured = {name: ts[0].tenant_id for name, ts in tenants.items() if name != "floor"}

        settings = "dev-server defaults" if args.server_defaults else "embedded stack's latency settings"
        print(f"{args.turns} turns over {args.threads} threads per path, {args.warmup} warm-up turns not counted; "
              f"Temporal dev server with the {settings}")
        print(f"{'path':<12}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
        p50 = {}
        for name in ("floor", "temporal", "direct"):
            p50[name], row = summary(name, samples[name])
            print(row)
        overhead = p50["temporal"] - p50["direct"]
        passed = overhead <= TARGET_OVERHEAD_MS
        print(
            f"overhead p50 (temporal - direct) = {overhead:.1f} ms, ratio {p50['temporal'] / p50['direct']:.2f}x; "
            f"floor p50 {p50['floor']:.1f} ms; target <= {TARGET_OVERHEAD_MS:.0f} ms: {'PASS' if passed else 'FAIL'}"
        )
        intact = True
        for name, tenant in measured.items():
            counts = await row_counts(runtime, tenant)
            expected = {"messages": 2 * args.turns, "recall_items": args.turns, "turns": args.turns}
            ok = counts == expected
            intact &= ok
            shown = ", ".join(f"{k}={v} (want {expected[k]})" for k, v in counts.items())
            print(f"rows {name:<9}{shown}: {'OK' if ok else 'MISMATCH'}")
        return passed and intact
    finally:
        await runtime.close()
        await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=60, help="measured turns per path")
    parser.add_argument("--threads", type=int, default=3, help="threads the turns rotate over")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted turns per path first")
    parser.add_argument("--server-defaults", action="store_true",
                        help="run the dev server without the embedded stack's latency settings")
    parser.add_argument("--strict", action="store_true", help="exit 1 on FAIL or lost/duplicated rows")
    args = parser.parse_args()
    if args.turns < 2 or args.threads < 1 or args.warmup < 0:
        parser.error("need --turns >= 2, --threads >= 1, --warmup >= 0")
    with embedded_services("turn-latency-") as services:
        ok = asyncio.run(run(args, services))
    if args.strict and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
