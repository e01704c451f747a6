"""How the fenced recall search is planned, and how fast it answers, per tenant size.

    python -m bench.recall_plans [--sizes 1000,100000] [--runs 30]

Fills one table with a tenant of each size (random 256-dimension vectors of the default
model, with the model's partial HNSW index), then for each tenant:

- EXPLAIN ANALYZE of the search as a prepared statement under a generic plan (what psycopg's
  automatic preparation led to after five runs) and under a custom plan (what the store's
  unprepared statements get): the plan's top node, whether the model's HNSW index is used,
  planning and execution time;
- p50/p95 over --runs queries of SELECT 1 through the same pool (what any read costs on the
  machine: compare the others with it), of the fenced vector read (the vector leg alone, reads only),
  of the hybrid read a turn runs by default (both legs, reads only; the turn's commit stamps
  what it used) and of RecallStore.search (which stamps its hits itself).

1M rows per tenant works the same way (--sizes 1000000) but takes many minutes to load and
index on a small machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import time

from sqlalchemy import text

from bench.services import embedded_services
from memory.core.db import create_engine
from memory.core.refs import AgentRef
from memory.recall.fenced_search import read_pipelined
from memory.recall.search import FusionSettings, RetrievalMode
from memory.recall.store import (
    RecallStore,
    ensure_index,
    index_name,
    model_literal,
    search_sql,
)

FILL = """
INSERT INTO recall_items (tenant_id, agent_id, thread_id, source_type, text, idempotency_key)
SELECT CAST(:tenant AS text), 'bench', 't' || (n % 50), 'exchange', 'exchange ' || n,
       CAST(:tenant AS text) || '/' || n
FROM generate_series(1, CAST(:rows AS int)) AS n
"""
EMBED = """
INSERT INTO recall_embeddings (item_id, embedding_model, tenant_id, embedding)
SELECT i.id, CAST(:model AS text), i.tenant_id,
       (SELECT ('[' || string_agg(random()::text, ',') || ']')::vector
        FROM generate_series(1, CAST(:dim AS int)) WHERE i.id > 0)
FROM recall_items i WHERE i.tenant_id = CAST(:tenant AS text)
"""


def _positional(sql: str) -> str:
    for n, name in enumerate(("query", "tenant_id", "agent_id", "exclude_thread_id", "limit", "user_id"), start=1):
        sql = sql.replace(f":{name}", f"${n}")
    return sql


def _vector(dim: int) -> list[float]:
    return [random.random() for _ in range(dim)]


async def explain(engine, model: str, tenant: str, mode: str) -> tuple[str, bool, float, float]:
    _, dim = model_literal(model)
    vec = "[" + ",".join(f"{x:.5f}" for x in _vector(dim)) + "]"
    async with engine.connect() as conn:
        await conn.execute(text("SET hnsw.iterative_scan = 'relaxed_order'"))
        await conn.execute(text(f"SET plan_cache_mode = {mode}"))
        name = f"s_{mode}"
        await conn.exec_driver_sql(
            f"PREPARE {name}(text, text, text, text, int, text) AS {_positional(search_sql(model))}"
        )
        rows = await conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE {name}('{vec}', '{tenant}', 'bench', 't-none', 5, NULL)"
        )
        plan = [r[0] for r in rows]
        await conn.exec_driver_sql(f"DEALLOCATE {name}")
        await conn.rollback()
    used = any(index_name(model) in line for line in plan)
    ms = float(re.search(r"Execution Time: ([\d.]+)", "\n".join(plan)).group(1))
    planning = re.search(r"Planning Time: ([\d.]+)", "\n".join(plan))
    top = next(line.strip() for line in plan if "->" in line or line.strip()).split("  ")[0]
    return top, used, float(planning.group(1)) if planning else 0.0, ms


async def run(args: argparse.Namespace, database_url: str, model: str) -> None:
    engine = create_engine(database_url)
    _, dim = model_literal(model)
    store = RecallStore(engine)
    try:
        for size in args.sizes:
            tenant = f"plans-{size}"
            started = time.perf_counter()
            async with engine.begin() as conn:
                await conn.execute(text(FILL), {"tenant": tenant, "rows": size})
                await conn.execute(text(EMBED), {"tenant": tenant, "model": model, "dim": dim})
            print(f"loaded {size} rows for {tenant} in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        await ensure_index(engine, model)
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE recall_items; ANALYZE recall_embeddings"))
        print(f"built {index_name(model)} in {time.perf_counter() - started:.1f} s\n")

        print("| rows/tenant | plan | top node | HNSW index | planning ms | execution ms |")
        print("|---:|---|---|---|---:|---:|")
        for size in args.sizes:
            for mode in ("force_generic_plan", "force_custom_plan"):
                top, used, planning, ms = await explain(engine, model, f"plans-{size}", mode)
                print(f"| {size} | {mode.split('_')[1]} | {top} | {'yes' if used else 'no'} | {planning:.2f} | {ms:.2f} |")

        print("\n| rows/tenant | read | p50 ms | p95 ms | runs |")
        print("|---:|---|---:|---:|---:|")
        vector_only = FusionSettings(mode=RetrievalMode.VECTOR)
        hybrid = FusionSettings()  # the defaults a turn searches with
        for size in args.sizes:
            agent = AgentRef(tenant_id=f"plans-{size}", agent_id="bench")
            reads = {
                # The fixed cost of any read on this machine: a pooled connection, one round trip.
                "SELECT 1 (the floor of any read)": lambda query: read_pipelined(engine, [("SELECT 1", {})]),
                # The leg by meaning alone: reads only, stamps left to the commit.
                "fenced vector read": lambda query: store.hybrid_search(
                    agent, query="", query_embedding=query, embedding_model=model, limit=5, min_score=-1.0,
                    fusion=vector_only, stamp_retrieved=False,
                ),
                # What a turn runs: both legs. The fill's texts are "exchange <n>": a question's
                # words usually match a few items, and a word in every item is the worst case.
                "fenced hybrid read (turn), words in a few items": lambda query: store.hybrid_search(
                    agent, query="what was number 421 again", query_embedding=query, embedding_model=model,
                    limit=5, min_score=-1.0, fusion=hybrid, stamp_retrieved=False,
                ),
                "fenced hybrid read (turn), a word in every item": lambda query: store.hybrid_search(
                    agent, query="the exchange about 42", query_embedding=query, embedding_model=model,
                    limit=5, min_score=-1.0, fusion=hybrid, stamp_retrieved=False,
                ),
                # The recall tool's search: also stamps the hits as retrieved, in the same transaction.
                "RecallStore.search": lambda query: store.search(
                    agent, query_embedding=query, embedding_model=model, limit=5, min_score=-1.0
                ),
            }
            for label, read in reads.items():
                samples = []
                for _ in range(args.runs):
                    query = _vector(dim)
                    t0 = time.perf_counter()
                    await read(query)
                    samples.append((time.perf_counter() - t0) * 1000)
                p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
                print(f"| {size} | {label} | {statistics.median(samples):.2f} | {p95:.2f} | {args.runs} |")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda v: [int(n) for n in v.split(",")], default=[1000, 100000])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with embedded_services("recall-plans-") as services:
        model = services.settings().embedding_model
        asyncio.run(run(args, services.database_url, model))


if __name__ == "__main__":
    main()
