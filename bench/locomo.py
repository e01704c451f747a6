"""Retrieval on LoCoMo-shaped conversations: does the right memory reach the prompt?

    python -m bench.locomo_convert data/locomo10.zip /tmp/locomo.jsonl   # once; see that script
    python -m bench.locomo /tmp/locomo.jsonl [--split dev|held-out|all] [--configs ...]

Each conversation's turns are stored through the product's write path
(RecallMemory.remember_turns: the tenant's embedder, billed, one recall item per turn,
the session time as the item's source time), one tenant per conversation and embedding
model, on an embedded Postgres. Every question of categories 1-4 (category 5 is
adversarial: its answer is not in the conversation) is asked through the product's read
path (RecallMemory.recall, from no thread) and scored on its evidence turns:

- recall@k: the share of a question's evidence turns among the first k hits, averaged
  over questions (overall and per category: 1 multi-hop, 2 temporal, 3 open-domain,
  4 single-hop, in LoCoMo's numbering);
- all@10: the share of questions whose evidence is all in the first 10;
- p50/p95: wall time of one recall call (embedding, ledger row and SQL), in ms.

Beside them, in the same run, a plain BM25 (Okapi, k1 1.2, b 0.75, lower-cased word
tokens, no stemming) over the same turn texts.

Splits: tuning happened only on the development conversations conv-26, conv-30, conv-41,
conv-42 and conv-43 (files 26, 30, 41, 42, 43 of the zip); conv-44, conv-47, conv-48,
conv-49 and conv-50 are held out and were run once, with settings frozen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text

from bench.services import embedded_services
from memory.core.config import Settings
from memory.core.db import create_engine
from memory.core.refs import ThreadRef
from memory.core.tenants import TenantRegistry
from memory.core.usage import UsageLedger
from memory.embedding.registry import build_embedder
from memory.recall.search import FusionMethod, FusionSettings, RetrievalMode
from memory.recall.service import EmbedderPool, ImportedTurn, RecallMemory
from memory.recall.store import RecallStore

DEV = ("conv-26", "conv-30", "conv-41", "conv-42", "conv-43")
HELD_OUT = ("conv-44", "conv-47", "conv-48", "conv-49", "conv-50")
CATEGORIES = (1, 2, 3, 4)
CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
KS = (5, 10, 20)
HASHED = "offline/hashed-ngrams/256"
SEMANTIC = "wordllama/l2-supercat/256"
# name -> (embedding model, retrieval mode, fusion method)
CONFIGS = {
    "hashed-ngrams": (HASHED, RetrievalMode.VECTOR, FusionMethod.RELATIVE),
    "semantic": (SEMANTIC, RetrievalMode.VECTOR, FusionMethod.RELATIVE),
    "lexical": (SEMANTIC, RetrievalMode.LEXICAL, FusionMethod.RELATIVE),
    "hybrid-rrf": (SEMANTIC, RetrievalMode.HYBRID, FusionMethod.RRF),
    "hybrid": (SEMANTIC, RetrievalMode.HYBRID, FusionMethod.RELATIVE),
}


@dataclass
class Scores:
    recall: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    by_category: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    all_at_10: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, ranked: list[str], evidence: list[str], category: int, latency_ms: float | None) -> None:
        wanted = set(evidence)
        for k in KS:
            self.recall[k].append(len(wanted & set(ranked[:k])) / len(wanted))
        self.by_category[category].append(len(wanted & set(ranked[:10])) / len(wanted))
        self.all_at_10.append(float(wanted <= set(ranked[:10])))
        if latency_ms is not None:
            self.latencies_ms.append(latency_ms)


_WORD = re.compile(r"\w+")


class BM25:
    def __init__(self, docs: list[tuple[str, str]], k1: float = 1.2, b: float = 0.75):
        self._ids = [doc_id for doc_id, _ in docs]
        self._tf = [Counter(_WORD.findall(text.lower())) for _, text in docs]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = sum(self._len) / max(1, len(self._len))
        df = Counter(term for tf in self._tf for term in tf)
        n = len(docs)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self._k1, self._b = k1, b

    def search(self, query: str, k: int) -> list[str]:
        terms = set(_WORD.findall(query.lower()))
        scored = []
        for i, tf in enumerate(self._tf):
            s = 0.0
            for t in terms:
                if f := tf.get(t):
                    norm = self._k1 * (1 - self._b + self._b * self._len[i] / self._avg)
                    s += self._idf[t] * f * (self._k1 + 1) / (f + norm)
            if s > 0:
                scored.append((s, -i))
        scored.sort(reverse=True)
        return [self._ids[-i] for _, i in scored[:k]]


def load(path: str, split: str) -> list[dict]:
    wanted = {"dev": DEV, "held-out": HELD_OUT, "all": DEV + HELD_OUT}[split]
    with open(path) as f:
        conversations = [json.loads(line) for line in f if line.strip()]
    chosen = [c for c in conversations if c["id"] in wanted] if split != "all" else conversations
    if not chosen:
        raise SystemExit(f"no conversation of split {split!r} in {path}")
    return chosen


def turn_text(turn: dict) -> str:
    return f"{turn['speaker']}: {turn['text']}"


def questions(conversation: dict) -> list[dict]:
    return [q for q in conversation["questions"] if q["category"] in CATEGORIES and q["evidence"]]


def recall_memory(
    engine, store, model: str, mode: RetrievalMode, method: FusionMethod, settings: Settings, fusion: dict
) -> RecallMemory:
    pool = EmbedderPool(lambda model_id: build_embedder(model_id, settings))
    return RecallMemory(
        store,
        TenantRegistry(engine, model),
        pool,
        UsageLedger(engine),
        top_k=max(KS),
        min_score=settings.recall_min_score,
        fusion=FusionSettings(mode=mode, method=method, **fusion),
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


async def run(conversations: list[dict], configs: list[str], settings: Settings, fusion: dict) -> dict[str, Scores]:
    engine = create_engine(settings.database_url)
    store = RecallStore(engine)
    scores: dict[str, Scores] = {name: Scores() for name in configs}
    scores["bm25"] = Scores()
    try:
        for conversation in conversations:
            docs = [(t["id"], turn_text(t)) for s in conversation["sessions"] for t in s["turns"]]
            bm25 = BM25(docs)
            asked = questions(conversation)
            for q in asked:
                started = time.perf_counter()
                ranked = bm25.search(q["question"], max(KS))
                scores["bm25"].add(ranked, q["evidence"], q["category"], (time.perf_counter() - started) * 1000)
            written: dict[str, dict[int, str]] = {}
            for name in configs:
                model, mode, method = CONFIGS[name]
                memory = recall_memory(engine, store, model, mode, method, settings, fusion)
                thread = ThreadRef(tenant_id=f"{conversation['id']}-{_slug(model)}"[:64], agent_id="locomo", thread_id="conversation")
                if model not in written:
                    turns = [
                        ImportedTurn(key=t["id"], text=turn_text(t), occurred_at=datetime.fromisoformat(s["time"]))
                        for s in conversation["sessions"]
                        for t in s["turns"]
                    ]
                    ids = await memory.remember_turns(thread, turns)
                    written[model] = {item_id: turn.key for item_id, turn in zip(ids, turns, strict=True)}
                    # What autovacuum would do after a bulk import: without statistics the
                    # planner takes a freshly filled table for empty and joins it badly.
                    async with engine.begin() as conn:
                        await conn.execute(text("ANALYZE recall_items, recall_embeddings"))
                for n, q in enumerate(asked):
                    started = time.perf_counter()
                    hits = await memory.recall(thread.agent, q["question"], request_key=f"{name}-{n}", k=max(KS))
                    latency = (time.perf_counter() - started) * 1000
                    ranked = [written[model][h.id] for h in hits]
                    scores[name].add(ranked, q["evidence"], q["category"], latency)
            print(f"  {conversation['id']}: {len(docs)} turns, {len(asked)} questions", file=sys.stderr)
    finally:
        await engine.dispose()
    return scores


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def table(scores: dict[str, Scores]) -> str:
    header = ["config", *(f"R@{k}" for k in KS), *(f"R@10 c{c}" for c in CATEGORIES), "all@10", "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, s in scores.items():
        row = [name]
        row += [f"{statistics.fmean(s.recall[k]):.3f}" for k in KS]
        row += [f"{statistics.fmean(s.by_category[c]):.3f}" if s.by_category[c] else "-" for c in CATEGORIES]
        row += [f"{statistics.fmean(s.all_at_10):.3f}", f"{_pct(s.latencies_ms, 0.5):.1f}", f"{_pct(s.latencies_ms, 0.95):.1f}"]
        lines.append("| " + " | ".join(row) + " |")
    counts = {c: len(next(iter(scores.values())).by_category[c]) for c in CATEGORIES}
    lines.append(
        "questions per category: " + ", ".join(f"c{c} {CATEGORY_NAMES[c]} {n}" for c, n in counts.items())
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="a JSONL file in the shape bench/locomo_convert.py writes")
    parser.add_argument("--split", choices=("dev", "held-out", "all"), default="dev")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    defaults = Settings()
    parser.add_argument("--rrf-k", type=int, default=defaults.recall_rrf_k)
    parser.add_argument("--vector-candidates", type=int, default=defaults.recall_vector_candidates)
    parser.add_argument("--lexical-candidates", type=int, default=defaults.recall_lexical_candidates)
    parser.add_argument("--vector-weight", type=float, default=defaults.recall_vector_weight)
    parser.add_argument("--lexical-weight", type=float, default=defaults.recall_lexical_weight)
    args = parser.parse_args(argv)
    configs = [c for c in args.configs.split(",") if c]
    if unknown := set(configs) - set(CONFIGS):
        parser.error(f"unknown configs: {', '.join(sorted(unknown))}")
    fusion = dict(
        rrf_k=args.rrf_k,
        vector_candidates=args.vector_candidates,
        lexical_candidates=args.lexical_candidates,
        vector_weight=args.vector_weight,
        lexical_weight=args.lexical_weight,
    )
    conversations = load(args.data, args.split)
    with embedded_services("locomo-bench-") as services:
        settings = services.settings()
        scores = asyncio.run(run(conversations, configs, settings, fusion))
    print(f"LoCoMo evidence retrieval, split {args.split} ({', '.join(c['id'] for c in conversations)}); fusion {fusion}")
    print(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
