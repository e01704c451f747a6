"""The fenced approximate search on real vectors: recall@10 against exact search, and latency.

    python -m bench.locomo_convert data/locomo10.zip /tmp/locomo.jsonl   # once; see that script
    python -m bench.ann /tmp/locomo.jsonl [--rows 100000] [--queries 200]
        [--shapes 16x128,24x200] [--ef-search 40,100,200] [--cache /tmp/ann-cache]

Text: the sentences of LoCoMo's development conversations (conv-26, 30, 41, 42, 43),
recombined two at a time with a fixed seed into --rows distinct texts of real English, all
of one tenant and agent. Each text gets a vector of the semantic default
(wordllama/l2-supercat/256) and one of the hashed n-gram model, so the table holds two
models, as it does during a migration, and every search is fenced on one of them.

Queries: the development conversations' questions, embedded with the semantic model. Each
is run through RecallStore.search (the turn's fenced vector path, with its per-transaction
settings) for top 10, and scored against the exact top 10 (a brute-force cosine over the
same float32 vectors). For each index shape (m x ef_construction; the index is rebuilt per
shape, build time shown) and each ef_search: mean recall@10, p50 and p95 in ms. The first
row is the exact scan (no index) in the same run: the baseline the index must beat.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import re
import statistics
import time

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from sqlalchemy import text

from bench.locomo import DEV
from bench.services import embedded_services
from memory.core.db import create_engine
from memory.core.refs import AgentRef
from memory.embedding.offline import OfflineEmbedder
from memory.embedding.wordllama_embedder import MODEL_ID as SEMANTIC_ID
from memory.embedding.wordllama_embedder import embed_texts
from memory.recall.fenced_search import (
    SEARCH_SETTINGS_SQL,
    read_pipelined,
    search_sql,
    vector_text,
)
from memory.recall.store import (
    HnswSettings,
    RecallStore,
    ensure_index,
    index_name,
)

SEMANTIC = str(SEMANTIC_ID)
HASHED = "offline/hashed-ngrams/256"
TENANT = "ann-bench"
AGENT = AgentRef(tenant_id=TENANT, agent_id="bench")
SCOPE = {"tenant_id": TENANT, "agent_id": AGENT.agent_id, "exclude_thread_id": "", "user_id": None}
K = 10
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def corpus(path: str, rows: int, seed: int = 19) -> tuple[list[str], list[str]]:
    """--rows distinct texts recombined from the development conversations' sentences, and
    those conversations' questions."""
    with open(path) as f:
        conversations = [c for c in map(json.loads, filter(str.strip, f)) if c["id"] in DEV]
    sentences = sorted(
        {s.strip() for c in conversations for session in c["sessions"] for t in session["turns"] for s in _SENTENCE.split(t["text"]) if len(s.split()) >= 3}
    )
    questions = [q["question"] for c in conversations for q in c["questions"] if q["category"] in (1, 2, 3, 4)]
    rng = random.Random(seed)
    texts: set[str] = set()
    while len(texts) < rows:
        texts.add(f"{rng.choice(sentences)} {rng.choice(sentences)}")
    return sorted(texts), questions


def load(database_url: str, texts: list[str], semantic: np.ndarray, hashed: np.ndarray) -> None:
    """Items and both models' vectors by COPY: the write path's one transaction per item would
    take longer than everything measured here."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        register_vector(conn)
        with conn.cursor() as cur:
            with cur.copy("COPY recall_items (tenant_id, agent_id, thread_id, source_type, text, idempotency_key) FROM STDIN") as copy:
                for n, body in enumerate(texts):
                    copy.write_row((TENANT, AGENT.agent_id, f"t{n % 50}", "exchange", body, f"ann/{n}"))
            cur.execute("SELECT id, idempotency_key FROM recall_items WHERE tenant_id = %s", (TENANT,))
            ids = {key: item_id for item_id, key in cur.fetchall()}
            with cur.copy("COPY recall_embeddings (item_id, embedding_model, tenant_id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["bigint", "varchar", "varchar", "vector"])
                for n in range(len(texts)):
                    copy.write_row((ids[f"ann/{n}"], SEMANTIC, TENANT, semantic[n]))
                    copy.write_row((ids[f"ann/{n}"], HASHED, TENANT, hashed[n]))
        conn.commit()


def exact_top(semantic: np.ndarray, queries: np.ndarray, ids: np.ndarray) -> list[set[int]]:
    similarity = queries @ semantic.T
    return [set(ids[np.argsort(-row, kind="stable")[:K]].tolist()) for row in similarity]


def embedded(texts: list[str], cache: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Both models' vectors of the texts; with a cache folder, kept for the next run (pure
    Python hashing of 100,000 texts takes minutes)."""
    digest = hashlib.blake2b("\n".join(texts).encode("utf-8"), digest_size=8).hexdigest()
    path = os.path.join(cache, f"ann-{len(texts)}-{digest}.npz") if cache else None
    if path and os.path.exists(path):
        with np.load(path) as stored:
            return stored["semantic"], stored["hashed"]
    semantic = np.asarray(embed_texts(texts), dtype=np.float32)
    embedder = OfflineEmbedder()
    hashed = np.asarray([embedder.embed_one(body) for body in texts], dtype=np.float32)
    if path:
        os.makedirs(cache, exist_ok=True)
        np.savez(path, semantic=semantic, hashed=hashed)
    return semantic, hashed


async def measure(engine, hnsw: HnswSettings, queries: np.ndarray, truth: list[set[int]]) -> list[float]:
    """Mean recall@10; p50 and p95 of the fenced statement alone (the index's part: the
    store's per-transaction settings and the search, in one read transaction); p50 and
    p95 of RecallStore.search whole (which also stamps the hits as retrieved and commits)."""
    recalls, statement_ms, whole_ms = [], [], []
    store = RecallStore(engine, hnsw)
    for query, expected in zip(queries, truth, strict=True):
        vector = query.tolist()
        started = time.perf_counter()
        _, found = await read_pipelined(
            engine,
            [
                (SEARCH_SETTINGS_SQL, {"ef_search": str(hnsw.ef_search)}),
                (search_sql(SEMANTIC), {**SCOPE, "query": vector_text(vector), "limit": K}),
            ],
        )
        ids = {row["id"] for row in found}
        statement_ms.append((time.perf_counter() - started) * 1000)
        recalls.append(len(expected & ids) / K)
        started = time.perf_counter()
        await store.search(AGENT, query_embedding=vector, embedding_model=SEMANTIC, limit=K, min_score=-1.0)
        whole_ms.append((time.perf_counter() - started) * 1000)
    return [statistics.fmean(recalls), *_p50_p95(statement_ms), *_p50_p95(whole_ms)]


def _p50_p95(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20, method="inclusive")[18]


async def run(args: argparse.Namespace, database_url: str) -> None:
    started = time.perf_counter()
    texts, questions = corpus(args.data, args.rows)
    questions = random.Random(7).sample(questions, min(args.queries, len(questions)))
    semantic, hashed = embedded(texts, args.cache)
    queries = np.asarray(embed_texts(questions), dtype=np.float32)
    print(f"embedded {len(texts)} texts with {SEMANTIC} and {HASHED} in {time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    load(database_url, texts, semantic, hashed)
    print(f"loaded {2 * len(texts)} vectors of two models in {time.perf_counter() - started:.1f} s", flush=True)

    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE recall_items, recall_embeddings"))
            rows = (await conn.execute(text("SELECT id, idempotency_key FROM recall_items WHERE tenant_id = :t"), {"t": TENANT})).all()
        by_key = {key: item_id for item_id, key in rows}
        ids = np.asarray([by_key[f"ann/{n}"] for n in range(len(texts))])
        truth = exact_top(semantic, queries, ids)
        # The exact scan, measured by the same code path before any index exists.
        header = "| index | ef_search | recall@10 vs exact | search p50 ms | search p95 ms | RecallStore.search p50 ms | p95 ms |"
        lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
        # Each row as soon as it is measured (an index build takes minutes), the table at the end.
        lines.append(_row("exact scan", "-", await measure(engine, HnswSettings(), queries, truth)))
        print(lines[-1], flush=True)
        for m, ef_construction in args.shapes:
            async with engine.begin() as conn:
                await conn.execute(text(f"DROP INDEX IF EXISTS {index_name(SEMANTIC)}"))
            hnsw = HnswSettings(m=m, ef_construction=ef_construction)
            started = time.perf_counter()
            await ensure_index(engine, SEMANTIC, hnsw)
            build_s = time.perf_counter() - started
            print(f"built m={m} ef_construction={ef_construction} in {build_s:.1f} s", flush=True)
            for ef_search in args.ef_search:
                hnsw = HnswSettings(m=m, ef_construction=ef_construction, ef_search=ef_search)
                shape = f"m={m} ef_construction={ef_construction} (built in {build_s:.0f} s)"
                lines.append(_row(shape, str(ef_search), await measure(engine, hnsw, queries, truth)))
                print(lines[-1], flush=True)
    finally:
        await engine.dispose()
    load_1, load_5, _ = os.getloadavg()
    print(f"\n{len(texts)} rows per model, two models, {len(questions)} queries, top {K}; load average {load_1:.1f} / {load_5:.1f}")
    print("\n".join(lines))


def _row(index: str, ef_search: str, measured: list[float]) -> str:
    recall, *times = measured
    return f"| {index} | {ef_search} | {recall:.3f} | " + " | ".join(f"{t:.1f}" for t in times) + " |"


def _shape(value: str) -> tuple[int, int]:
    m, ef_construction = value.lower().split("x")
    return int(m), int(ef_construction)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="a JSONL file in the shape bench/locomo_convert.py writes")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--cache", help="a folder keeping the embedded texts between runs")
    defaults = HnswSettings()
    parser.add_argument("--shapes", type=lambda v: [_shape(s) for s in v.split(",")], default=[(defaults.m, defaults.ef_construction)])
    parser.add_argument("--ef-search", type=lambda v: [int(n) for n in v.split(",")], default=[40, defaults.ef_search, 200])
    args = parser.parse_args()
    with embedded_services("ann-bench-") as services:
        asyncio.run(run(args, services.database_url))


if __name__ == "__main__":
    main()
