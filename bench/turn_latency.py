"""Turn latency through Temporal versus the same memory operations called directly.

    python -m bench.turn_latency [--turns 60] [--threads 3] [--warmup 3] [--strict]

Runs on the embedded stack (Postgres and FalkorDB in a temp dir, Temporal dev server,
in-process worker, offline model, embedder and graph extractor) and reports whether
Temporal adds no more than 50 ms p50 per turn over the direct calls measured in the
same run.

Both paths do the turn's work up to the reply, including the graph search, skills, episodic
search and session-cache lookup among the seven parallel reads. After each turn the workflow also starts a knowledge-ingestion
child workflow without awaiting it; the direct path runs no ingestion, since the
reply does not wait for it. The children still run on the same worker during the
measurement, so their load is part of what the Temporal path is charged with. The
benchmark messages are below the length gate's default threshold, so each child only records
its gate decision.
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

from activities.conversation import ConversationActivities
from activities.graph import KnowledgeActivities
from activities.graph_models import GraphSearchInput
from activities.learning import LearningActivities
from activities.learning_models import EpisodicSearchInput, SessionRef, SkillsLoadInput
from activities.model_call import ModelActivities
from activities.notebook import NotebookActivities
from activities.recall import RecallActivities
from activities.turn_models import (
    AppendMessageInput,
    GenerateInput,
    LoadConversationInput,
    NotebookReadInput,
    RecallSearchInput,
    RecallWriteInput,
    TurnRecordInput,
)
from activities.turns import TurnActivities
from bench.services import Services, embedded_services, start_temporal_dev_server
from clients.conversation import send_message
from contract.conversation import ConversationLimits, UserMessage
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
    """The workflow's turn up to its reply, activity by activity, as plain coroutine calls on
    one runtime. It starts no knowledge ingestion: the workflow does not wait for that either."""

    def __init__(self, runtime: MemoryRuntime) -> None:
        self.conversation = ConversationActivities(runtime)
        self.notebook = NotebookActivities(runtime)
        self.recall = RecallActivities(runtime)
        self.knowledge = KnowledgeActivities(runtime)
        self.learning = LearningActivities(runtime)
        self.model = ModelActivities(runtime)
        self.turns = TurnActivities(runtime)
        self._last_turn: dict[ThreadRef, int] = {}

    async def send(self, thread: ThreadRef, text_: str) -> None:
        if thread not in self._last_turn:
            # The workflow asks the store for the last turn once per run, inside its first turn.
            self._last_turn[thread] = await self.conversation.open(thread)
        turn = self._last_turn[thread] = self._last_turn[thread] + 1
        user = await self.conversation.append_message(
            AppendMessageInput(thread=thread, turn=turn, role="user", content=text_)
        )
        notebook, recalled, loaded, facts, skills, episodes, learned = await asyncio.gather(
            self.notebook.read(NotebookReadInput(agent=thread.agent)),
            self.recall.search(RecallSearchInput(thread=thread, turn=turn, query=text_)),
            self.conversation.load(LoadConversationInput(thread=thread, exclude_message_id=user.id)),
            self.knowledge.search(GraphSearchInput(thread=thread, turn=turn, query=text_)),
            self.learning.load_skills(SkillsLoadInput(thread=thread, message=text_)),
            self.learning.search_episodes(EpisodicSearchInput(thread=thread, turn=turn, query=text_)),
            self.learning.lookup(SessionRef(thread=thread)),
        )
        # The workflow's manifest order.
        manifest = [*notebook, *skills.items, *facts, *recalled, *episodes, *loaded.items]
        reply = await self.model.generate(
            GenerateInput(thread=thread, turn=turn, iteration=0, manifest=manifest, user_message_id=user.id,
                          tools_enabled=LIMITS.max_tool_iterations > 0, learned=learned.entries)
        )
        if reply.tool_calls:
            raise RuntimeError("benchmark messages must not trigger tool calls: the two paths would diverge")
        assistant = await self.conversation.append_message(
            AppendMessageInput(thread=thread, turn=turn, role="assistant", content=reply.text)
        )
        await self.recall.write(
            RecallWriteInput(thread=thread, turn=turn, user_message_id=user.id, assistant_message_id=assistant.id)
        )
        await self.turns.record(
            TurnRecordInput(thread=thread, turn=turn, status="completed", user_message_id=user.id,
                            assistant_message_id=assistant.id, manifest=manifest, usage=reply.usage)
        )


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
    env = await start_temporal_dev_server()
    runtime = MemoryRuntime.create(services.settings())
    try:
        client: Client = env.client
        direct = DirectTurn(runtime)
        run_id = uuid.uuid4().hex[:8]

        def threads(prefix: str) -> list[ThreadRef]:
            tenant = f"{prefix}-{run_id}"
            return [ThreadRef(tenant_id=tenant, agent_id="bench", thread_id=f"t{i}") for i in range(args.threads)]

        task_queue = f"bench-{run_id}"
        samples: dict[str, list[float]] = {"temporal": [], "direct": []}
        async with build_worker(client, runtime, task_queue=task_queue):

            async def via_temporal(thread: ThreadRef, text_: str) -> None:
                await send_message(client, thread, UserMessage(text=text_), task_queue=task_queue, limits=LIMITS)

            paths = {"temporal": via_temporal, "direct": direct.send}
            for phase, count in (("warmup", args.warmup), ("measure", args.turns)):
                tenants = {name: threads(f"{phase}-{name}") for name in paths}
                for i in range(count):
                    # Interleaved so drift in the machine or the database hits both paths alike.
                    for name, send in paths.items():
                        thread = tenants[name][i % args.threads]
                        started = time.perf_counter()
                        await send(thread, message_text(i))
                        if phase == "measure":
                            samples[name].append((time.perf_counter() - started) * 1000)
            measured = {name: ts[0].tenant_id for name, ts in tenants.items()}

        print(f"{args.turns} turns over {args.threads} threads per path, {args.warmup} warm-up turns not counted")
        print(f"{'path':<12}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
        p50_a, row_a = summary("temporal", samples["temporal"])
        p50_b, row_b = summary("direct", samples["direct"])
        print(row_a)
        print(row_b)
        overhead = p50_a - p50_b
        passed = overhead <= TARGET_OVERHEAD_MS
        print(
            f"overhead p50 (a-b) = {overhead:.1f} ms, ratio p50 a/b = {p50_a / p50_b:.2f}x; "
            f"target <= {TARGET_OVERHEAD_MS:.0f} ms: {'PASS' if passed else 'FAIL'}"
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
