"""Replay of a realistic mixed conversation: print model calls and tokens with the gates on
and off, and the share saved.

    python -m bench.ingestion_gates [--strict]

Runs on throwaway Postgres and FalkorDB with the offline model, embedder and graph
extractor, and drives the memory layer directly (no Temporal: it counts calls, it does
not time turns). The same scripted conversation over three tenants (one on the trial
plan) is replayed twice, into separate tenants so the two graphs do not meet:

- gates on: every exchange goes through the gates, as the ingestion workflow does, and
  only those they pass are summarised, queued and ingested;
- gates off: every exchange is summarised, queued and ingested.

The turn that failed has no reply, so there is no exchange to queue on either side.
Calls and tokens come from the usage ledger, where every graph call is billed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bench.services import Services, embedded_services
from memory.conversation.store import StoredMessage
from memory.core.refs import ThreadRef
from memory.core.schema import usage_ledger
from memory.core.tenants import Plan
from memory.core.usage import Action
from memory.graph.gates import Gate, IngestionFacts
from memory.llm.base import ChatMessage, ModelRequest
from memory.runtime import MemoryRuntime

# The gated-out messages are most of a real conversation by count, though the short ones
# are cheap: the gates must save at least this share of model calls and of input tokens.
MIN_SAVED_SHARE = 0.4
UNGATED_SUFFIX = "-ungated"
TRIAL_TENANT = "initech"
MODEL_ACTIONS = (Action.GRAPH_EXTRACTION, Action.EPISODE_SUMMARY)
GRAPH_ACTIONS = (*MODEL_ACTIONS, Action.GRAPH_EMBED, Action.GRAPH_RERANK)


@dataclass(frozen=True)
class Line:
    """One user message of the script, in the thread it was sent to."""

    tenant: str
    agent: str
    thread: str
    text: str
    delegated: bool = False
    fails: bool = False


def _thread(tenant: str, agent: str, thread: str, *texts: str, delegated: bool = False) -> list[Line]:
    return [Line(tenant, agent, thread, text, delegated=delegated) for text in texts]


SCRIPT: list[Line] = [
    *_thread(
        "acme", "support", "onboarding",
        "hi",
        "Hi! My name is Dana Smith and I work at Northwind Traders. We are evaluating your export tooling this month.",
        "thanks!",
        "Northwind Traders is based in Rotterdam and our finance team uses Snowflake for every monthly billing "
        "reconciliation.",
        "ok",
        "Could you explain how the nightly billing export handles refunds that were issued after the invoice was "
        "already closed?",
        "sounds good",
        "Priya Patel works at Northwind Traders as our data engineer; she will own the export job and the alerting "
        "around it.",
        "great, thanks",
        "bye",
    ),
    *_thread(
        "acme", "support", "sso",
        "hello again",
        "Marco Rossi is based in Milan and runs our admin console; Northwind Traders uses Okta for SSO across every "
        "workspace.",
        "ok will do",
    ),
    Line(
        "acme", "support", "sso",
        "Please compare the SAML and OIDC setups for the EU workspace and tell me which one needs fewer changes on "
        "our side.",
        fails=True,
    ),
    *_thread(
        "acme", "support", "sso",
        "Marco Rossi moved to Contoso Ltd last week, so Priya Patel is taking over the SSO rollout for Northwind "
        "Traders.",
        "perfect",
    ),
    *_thread(
        "acme", "researcher", "delegate-1",
        "Research task from the support agent: summarise what Northwind Traders uses for billing exports and where "
        "the team is based.",
        "Findings: Northwind Traders uses Snowflake and is based in Rotterdam; Priya Patel works at Northwind "
        "Traders as data engineer.",
        "ack",
        "Follow-up from the support agent: check whether Contoso Ltd uses the same identity provider as Northwind "
        "Traders before the call.",
        delegated=True,
    ),
    *_thread(
        "globex", "sales", "renewal",
        "hey",
        "I'm Sam Lee and I work for Globex Corporation. Globex Corporation is based in Springfield and uses "
        "Salesforce for the renewal pipeline.",
        "thx",
        "ok",
        "Our procurement lead Alex Kim joined Globex Corporation in March and will sign the renewal once legal "
        "approves the data terms.",
        "makes sense",
        "What discount tiers apply if we move from the annual plan to a three-year commitment with quarterly "
        "invoicing instead?",
        "got it, thanks",
        "Alex Kim is based in Chicago, so please schedule the renewal review during Central time business hours "
        "next Tuesday afternoon.",
        "cool",
        "Globex Corporation uses Zendesk for support tickets today and we want the webhook retries to post updates "
        "back into it automatically.",
        "👍",
    ),
    *_thread(
        "globex", "sales", "pricing",
        "hi there",
        "Can you send me the pricing sheet for the enterprise tier, including the audit log retention add-on and the "
        "SSO surcharge?",
        "thanks!",
        "yes",
        "Sam Lee has moved to Globex Europe, so from next month the invoices should go to the Dublin office instead "
        "of Springfield.",
        "ok",
    ),
    *_thread(
        TRIAL_TENANT, "assistant", "trial",
        "hello",
        "Bill Lumbergh works at Initech and is based in Austin; our team uses Jira to track every migration task "
        "during the trial.",
        "ok",
        "Peter Gibbons joined Initech last year and uses the reporting API to pull weekly usage numbers into a "
        "shared spreadsheet.",
        "nice",
        "Milton Waddams works for Initech in the basement archive and uses a red stapler he would very much like to "
        "keep, thanks.",
        "sounds good, bye",
    ),
]


@dataclass
class Side:
    """One replay of the script: its tenants, its timing and what it decided."""

    gated: bool
    # Decide, summarise, queue and ingest; not the appends both sides share.
    seconds: float = 0.0
    gates: Counter[str] = field(default_factory=Counter)
    # (thread, turn) of every exchange the gates kept out of the graph.
    skipped: list[tuple[ThreadRef, int]] = field(default_factory=list)

    def tenant(self, tenant: str) -> str:
        return tenant if self.gated else tenant + UNGATED_SUFFIX

    def tenants(self) -> list[str]:
        return sorted({self.tenant(line.tenant) for line in SCRIPT})


class Replay:
    def __init__(self, runtime: MemoryRuntime) -> None:
        self._rt = runtime
        self._turns: Counter[ThreadRef] = Counter()

    async def send(self, side: Side, line: Line) -> None:
        thread = ThreadRef(tenant_id=side.tenant(line.tenant), agent_id=line.agent, thread_id=line.thread)
        self._turns[thread] += 1
        turn = self._turns[thread]
        user = await self._rt.conversation.append(thread, turn, "user", line.text)
        assistant = None if line.fails else await self._reply(thread, turn, line.text)
        started = time.perf_counter()
        if side.gated:
            await self._gated(side, thread, turn, line, user, assistant)
        elif assistant is not None:
            await self._ingest(thread, turn, user, assistant)
        side.seconds += time.perf_counter() - started

    async def _reply(self, thread: ThreadRef, turn: int, text: str) -> StoredMessage:
        # What the offline model answers a message with no memory around it: the reply the
        # summariser sees next to the user's message.
        reply = await self._rt.llm.generate(ModelRequest(system=[], messages=[ChatMessage(role="user", content=text)]))
        return await self._rt.conversation.append(thread, turn, "assistant", reply.text)

    async def _gated(
        self, side: Side, thread: ThreadRef, turn: int, line: Line, user: StoredMessage, assistant: StoredMessage | None
    ) -> None:
        decision = await self._rt.knowledge.decide(
            IngestionFacts(message_chars=len(line.text), turn_failed=line.fails, delegated=line.delegated),
            idempotency_key=f"{thread.key}/turn/{turn}/ingestion",
            tenant_id=thread.tenant_id,
            source="conversation",
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            turn=turn,
        )
        side.gates[decision.gate.value] += 1
        if not decision.ingest:
            side.skipped.append((thread, turn))
            return
        assert assistant is not None, "the turn-failed gate stops failed turns"
        await self._ingest(thread, turn, user, assistant)

    async def _ingest(self, thread: ThreadRef, turn: int, user: StoredMessage, assistant: StoredMessage) -> None:
        queued = await self._rt.knowledge.enqueue_exchange(thread, turn, user.id, assistant.id)
        done = await self._rt.knowledge.ingest_through(queued)
        if done.status != "ingested":
            raise RuntimeError(f"turn {turn} of {thread.key} was not ingested: {done.error}")


@dataclass(frozen=True)
class Totals:
    model_calls: int
    embedding_calls: int
    input_tokens: int
    output_tokens: int
    embedding_tokens: int
    episodes: int
    seconds: float

    def rows(self) -> list[tuple[str, int | float]]:
        return [
            ("model calls", self.model_calls),
            ("embedding calls", self.embedding_calls),
            ("input tokens (model)", self.input_tokens),
            ("output tokens (model)", self.output_tokens),
            ("tokens embedded", self.embedding_tokens),
            ("episodes ingested", self.episodes),
            ("ingestion wall time s", self.seconds),
        ]


async def totals(runtime: MemoryRuntime, side: Side) -> Totals:
    tenants = set(side.tenants())
    rows = [row for row in await runtime.ledger.report() if row.tenant_id in tenants]
    model = [row for row in rows if row.action in MODEL_ACTIONS]
    embed = [row for row in rows if row.action == Action.GRAPH_EMBED]
    episodes = 0
    for tenant in tenants:
        episodes += (await runtime.knowledge.queue.counts(tenant)).get("ingested", 0)
    return Totals(
        model_calls=sum(row.calls for row in model),
        embedding_calls=sum(row.calls for row in embed),
        input_tokens=sum(row.input_tokens for row in model),
        output_tokens=sum(row.output_tokens for row in model),
        embedding_tokens=sum(row.input_tokens for row in embed),
        episodes=episodes,
        seconds=side.seconds,
    )


async def graph_rows(runtime: MemoryRuntime, *, key_prefix: str | None = None, tenant: str | None = None) -> int:
    """Graph ledger rows under an idempotency-key prefix (a thread's turn) or of a whole tenant."""
    query = select(func.count()).select_from(usage_ledger).where(usage_ledger.c.action.in_(GRAPH_ACTIONS))
    if key_prefix is not None:
        query = query.where(usage_ledger.c.idempotency_key.startswith(key_prefix, autoescape=True))
    if tenant is not None:
        query = query.where(usage_ledger.c.tenant_id == tenant)
    async with runtime.engine.connect() as conn:
        return int(await conn.scalar(query) or 0)


async def leaks(runtime: MemoryRuntime, side: Side) -> list[str]:
    """Every gated exchange, and every tenant the gates kept out entirely, that was billed anyway."""
    found = []
    for thread, turn in side.skipped:
        if rows := await graph_rows(runtime, key_prefix=f"{thread.key}/turn/{turn}/"):
            found.append(f"{thread.key} turn {turn}: {rows} graph ledger row(s)")
    for tenant in side.tenants():
        counts = await runtime.knowledge.decisions.counts_by_gate(tenant)
        if Gate.INGEST.value not in counts and (rows := await graph_rows(runtime, tenant=tenant)):
            found.append(f"tenant {tenant}: nothing passed the gates, yet {rows} graph ledger row(s)")
    return found


def saved_share(off: float, on: float) -> float:
    return (off - on) / off if off else 0.0


def _shown(value: int | float) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def print_table(off: Totals, on: Totals) -> None:
    print(f"{'metric':<24}{'gates off':>12}{'gates on':>12}{'saved':>12}{'saved %':>10}")
    for (label, a), (_, b) in zip(off.rows(), on.rows()):
        print(f"{label:<24}{_shown(a):>12}{_shown(b):>12}{_shown(a - b):>12}{saved_share(a, b):>10.1%}")


def print_gates(side: Side) -> None:
    print(f"gate decisions with the gates on ({sum(side.gates.values())} messages):")
    for gate in Gate:
        print(f"  {gate.value:<26}{side.gates[gate.value]:>4}")


async def run(services: Services) -> bool:
    runtime = MemoryRuntime.create(services.settings())
    try:
        return await replay_and_report(runtime)
    finally:
        await runtime.close()


async def replay_and_report(runtime: MemoryRuntime) -> bool:
    sides = [Side(gated=True), Side(gated=False)]
    for side in sides:
        await runtime.tenants.set_plan(side.tenant(TRIAL_TENANT), Plan.TRIAL)
    replay = Replay(runtime)
    print(f"replaying {len(SCRIPT)} messages over {len({line.tenant for line in SCRIPT})} tenants, gates on and off")
    for index, line in enumerate(SCRIPT, start=1):
        # Interleaved so a graph that slows down as it grows weighs on both sides alike.
        for side in sides:
            await replay.send(side, line)
        if index % 10 == 0 or index == len(SCRIPT):
            print(f"  {index}/{len(SCRIPT)} messages")
    on, off = sides
    on_totals, off_totals = await totals(runtime, on), await totals(runtime, off)
    print()
    print_table(off_totals, on_totals)
    print()
    print_gates(on)
    found = await leaks(runtime, on)
    print(f"graph work billed for gated exchanges: {len(found)} leak(s); {len(on.skipped)} exchanges gated")
    for leak in found:
        print(f"  {leak}")
    calls_saved = saved_share(off_totals.model_calls, on_totals.model_calls)
    tokens_saved = saved_share(off_totals.input_tokens, on_totals.input_tokens)
    passed = min(calls_saved, tokens_saved) >= MIN_SAVED_SHARE
    print(
        f"saved {calls_saved:.1%} of model calls and {tokens_saved:.1%} of input tokens; "
        f"target >= {MIN_SAVED_SHARE:.0%} of each: {'PASS' if passed else 'FAIL'}"
    )
    return passed and not found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--strict", action="store_true",
        help=f"exit 1 if the gates save under {MIN_SAVED_SHARE:.0%} or a gated exchange was billed",
    )
    args = parser.parse_args()
    with embedded_services("ingestion-gates-") as services:
        ok = asyncio.run(run(services))
    if args.strict and not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
