"""Server time of each operator web page at a realistic tenant size.

    python -m bench.web_pages [--loads 15]

One tenant with 100,000 recall items, 5,000 graph facts (one in ten invalidated, each with
a 256-dimension embedding as ingestion leaves it) among 1,000 entities, and 1,000 threads
of 3 turns each (manifests, messages), plus a month of usage, gate decisions, notebook
versions and audit samples: bulk-inserted straight into Postgres and FalkorDB, since what is
measured is reading them. The API runs in this process on a real port; each page is loaded
--loads times after two warm-up loads, signed in as a browser is (session cookie). The
floor is /v1/health, measured in the same run: the cost of a round trip with no work.
Target: every page's median and p95 under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from api.keys import KeyStore
from api.serve import server
from api.services import ApiServices, ApiSettings
from bench.services import embedded_services, start_temporal_dev_server
from memory.core.refs import AgentRef
from memory.core.switches import GRAPH_EXTRACTION
from memory.graph.service import group_of
from memory.learning.session_cache import SessionContext, Substitution
from memory.runtime import MemoryRuntime

TENANT, AGENT = "bench", "support"
RECALL_ITEMS, FACTS, ENTITIES, THREADS, TURNS_PER_THREAD = 100_000, 5_000, 1_000, 1_000, 3
TARGET_MS = 500.0

FILL_RECALL = """
INSERT INTO recall_items (tenant_id, agent_id, thread_id, source_type, text, idempotency_key, occurred_at)
SELECT CAST(:tenant AS text), CAST(:agent AS text), 't' || (n % 1000), 'exchange',
       'user: order ' || n || ' was shipped to warehouse ' || (n % 37) || E'\\nassistant: noted, order ' || n,
       CAST(:tenant AS text) || '/recall/' || n, now() - make_interval(mins => n)
FROM generate_series(1, CAST(:rows AS int)) AS n
"""
FILL_MESSAGES = """
INSERT INTO messages (tenant_id, agent_id, thread_id, turn, role, content, token_estimate, idempotency_key, created_at)
SELECT CAST(:tenant AS text), CAST(:agent AS text), 't' || t, turn, role, role || ' message ' || turn || ' of thread ' || t, 12,
       CAST(:tenant AS text) || '/msg/' || t || '/' || turn || '/' || role, now() - make_interval(mins => t * 3 + turn)
FROM generate_series(0, CAST(:threads AS int) - 1) AS t, generate_series(1, CAST(:turns AS int)) AS turn,
     unnest(ARRAY['user', 'assistant']) AS role
"""
FILL_TURNS = """
INSERT INTO turns (tenant_id, agent_id, thread_id, turn, status, user_message_id, assistant_message_id,
                   manifest, usage, agent_version, idempotency_key, created_at)
SELECT m.tenant_id, m.agent_id, m.thread_id, m.turn, 'ok', m.id, a.id,
       jsonb_build_array(
         jsonb_build_object('layer', 'notebook', 'source_id', 1, 'source_time', now(), 'label', '/notebook.md v5', 'tokens', 40),
         jsonb_build_object('layer', 'recall', 'source_id', m.id, 'source_time', now(), 'label', 'thread t1, turn 2',
                            'score', 0.81, 'tokens', 30, 'found_by', 'both'),
         jsonb_build_object('layer', 'graph', 'source_key', 'fact-' || m.id, 'source_time', now(),
                            'label', 'Entity 1 WORKS_AT Entity 2', 'tokens', 9, 'valid_at', now(),
                            'source_episode', 'conversation: thread t1 of agent support, turn 1')),
       jsonb_build_object('input_tokens', 1200, 'output_tokens', 80, 'cache_read_input_tokens', 900,
                          'cache_creation_input_tokens', 0),
       1, m.idempotency_key || '/turn', m.created_at
FROM messages m JOIN messages a
  ON a.tenant_id = m.tenant_id AND a.thread_id = m.thread_id AND a.turn = m.turn AND a.role = 'assistant'
WHERE m.tenant_id = CAST(:tenant AS text) AND m.role = 'user'
"""
FILL_USAGE = """
INSERT INTO usage_ledger (tenant_id, agent_id, thread_id, action, provider, model, input_tokens, output_tokens,
                          idempotency_key, created_at)
SELECT CAST(:tenant AS text), CAST(:agent AS text), 't' || (n % 1000),
       (ARRAY['agent_turn', 'recall_embed_query', 'recall_embed_write', 'graph_extraction', 'episode_summary'])[1 + n % 5],
       'offline', 'offline-model', 500 + n % 300, 60, CAST(:tenant AS text) || '/usage/' || n, now() - make_interval(hours => n % 720)
FROM generate_series(1, 20000) AS n
"""
FILL_DECISIONS = """
INSERT INTO ingestion_decisions (tenant_id, agent_id, thread_id, turn, source, gate, ingest, idempotency_key)
SELECT CAST(:tenant AS text), CAST(:agent AS text), 't' || (n % 1000), 1, 'exchange',
       (ARRAY['ingested', 'below_length_threshold', 'delegated_conversation'])[1 + n % 3], n % 3 = 0,
       CAST(:tenant AS text) || '/decision/' || n
FROM generate_series(1, 3000) AS n
"""
CREATE_ENTITIES = "UNWIND $rows AS r CREATE (:Entity {uuid: r.uuid, name: r.name, group_id: $group, created_at: r.at, summary: ''})"
CREATE_FACTS = """
UNWIND $rows AS r
MATCH (a:Entity {uuid: r.source}), (b:Entity {uuid: r.target})
CREATE (a)-[:RELATES_TO {uuid: r.uuid, group_id: $group, name: r.name, fact: r.fact, episodes: r.episodes,
        created_at: r.at, valid_at: r.at, invalid_at: r.invalid, expired_at: r.invalid, fact_embedding: vecf32(r.vec)}]->(b)
"""


async def fill_postgres(runtime: MemoryRuntime) -> int:
    params = {"tenant": TENANT, "agent": AGENT}
    async with runtime.engine.begin() as conn:
        await conn.execute(text(FILL_RECALL), {**params, "rows": RECALL_ITEMS})
        await conn.execute(text(FILL_MESSAGES), {**params, "threads": THREADS, "turns": TURNS_PER_THREAD})
        await conn.execute(text(FILL_TURNS), params)
        await conn.execute(text(FILL_USAGE), params)
        await conn.execute(text(FILL_DECISIONS), params)
        await conn.execute(text("ANALYZE"))
    agent = AgentRef(tenant_id=TENANT, agent_id=AGENT)
    for version in range(1, 6):
        await runtime.documents.write(
            agent, "/notebook.md", content=f"# Notebook\n- Fact {version}\n" * version, author="operator:bench",
            reason=f"edit {version}", idempotency_key=f"bench/notebook/{version}",
        )
    for n in range(20):
        await runtime.switches.set(GRAPH_EXTRACTION, n % 2 == 0, tenant_id=TENANT, operator="bench", reason=f"flip {n}")
    ctx = SessionContext(tenant_id=TENANT, agent_id=AGENT, session_id="s-1")
    now = datetime.now(UTC)
    await runtime.cache_audit.write_many(ctx, [
        Substitution(tried=f"cmd {n}", instead=f"cmd --fixed {n}", command_key=f"cmd {n}", source="tool_recovery",
                     recorded_at=now, expires_at=now + timedelta(hours=1))
        for n in range(200)
    ])
    handbook = "# Handbook\n\n" + "A paragraph of policy. " * 4000
    stored = await runtime.library.store(TENANT, "handbook.md", hashlib.sha256(handbook.encode()).hexdigest(), handbook)
    return stored.id


async def fill_graph(runtime: MemoryRuntime) -> None:
    group = group_of(TENANT)
    driver = (await runtime.knowledge.graph._graphiti(group)).driver
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entities = [{"uuid": str(uuid.uuid4()), "name": f"Entity {n}", "at": start.isoformat()} for n in range(ENTITIES)]
    for i in range(0, len(entities), 500):
        await driver.execute_query(CREATE_ENTITIES, rows=entities[i : i + 500], group=group)
    rng = random.Random(7)
    facts = []
    for n in range(FACTS):
        a, b = rng.sample(entities, 2)
        at = start + timedelta(minutes=n)
        facts.append({
            "uuid": str(uuid.uuid4()), "source": a["uuid"], "target": b["uuid"], "name": "WORKS_WITH",
            "fact": f"{a['name']} works with {b['name']}", "episodes": [str(uuid.uuid4())], "at": at.isoformat(),
            "invalid": (at + timedelta(days=1)).isoformat() if n % 10 == 0 else None,
            "vec": [rng.random() for _ in range(256)],
        })
    for i in range(0, len(facts), 250):
        await driver.execute_query(CREATE_FACTS, rows=facts[i : i + 250], group=group)


async def timed(http: httpx.AsyncClient, path: str, loads: int) -> tuple[float, float]:
    for _ in range(2):
        warm = await http.get(path)
        assert warm.status_code == 200, f"{path}: {warm.status_code} {warm.text[:300]}"
    times = []
    for _ in range(loads):
        t = time.perf_counter()
        answer = await http.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert answer.status_code == 200, path
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


async def main(loads: int) -> None:
    with embedded_services("web-pages-bench-") as services:
        env = await start_temporal_dev_server()
        runtime = MemoryRuntime.create(services.settings())
        try:
            t = time.perf_counter()
            document_id = await fill_postgres(runtime)
            await fill_graph(runtime)
            print(f"filled the tenant in {time.perf_counter() - t:.0f} s")
            api = ApiServices(
                temporal=env.client, runtime=runtime, keys=KeyStore(runtime.engine),
                settings=ApiSettings(rate_per_second=10_000, rate_burst=10_000),
            )
            secret = (await api.keys.create(TENANT, "operator", name="bench", created_by="bench")).secret
            uvicorn_server = server(api, port=18_977, hosted=True)
            serving = asyncio.create_task(uvicorn_server.serve())
            while not uvicorn_server.started:
                await asyncio.sleep(0.01)
            try:
                async with httpx.AsyncClient(base_url="http://127.0.0.1:18977", timeout=60) as http:
                    await http.post("/web/login", data={"api_key": secret})
                    pages = [
                        ("floor: /v1/health", "/v1/health"),
                        ("overview", "/web/"),
                        ("graph, page 1", "/web/graph"),
                        ("graph, page 150", "/web/graph?page=150"),
                        ("graph, one entity", "/web/graph?entity=Entity+17"),
                        ("graph, invalidated", "/web/graph?state=invalid"),
                        ("agent (notebook, skills)", f"/web/agents/{AGENT}"),
                        ("notebook diff", f"/web/agents/{AGENT}?a=1&b=5"),
                        ("threads, page 1", f"/web/agents/{AGENT}/threads"),
                        ("threads, page 40", f"/web/agents/{AGENT}/threads?page=40"),
                        ("thread", f"/web/agents/{AGENT}/threads/t7"),
                        ("recall, newest", f"/web/agents/{AGENT}/recall"),
                        ("recall, deep", f"/web/agents/{AGENT}/recall?before=50000"),
                        ("learning and audit", f"/web/agents/{AGENT}/learning"),
                        ("search", f"/web/search?agent={AGENT}&q=Entity+17+warehouse"),
                        ("documents", "/web/documents"),
                        ("document chunks", f"/web/documents/{document_id}"),
                    ]
                    rows = [(name, *await timed(http, path, loads)) for name, path in pages]
            finally:
                uvicorn_server.should_exit = True
                await serving
        finally:
            await runtime.close()
            await env.shutdown()
    floor = rows[0][1]
    print(f"\n{RECALL_ITEMS:,} recall items, {FACTS:,} facts, {THREADS:,} threads; {loads} loads per page\n")
    print(f"{'page':<28} {'median ms':>10} {'p95 ms':>8} {'x floor':>8}  under {TARGET_MS:.0f} ms")
    for name, median, p95 in rows:
        ok = "yes" if p95 < TARGET_MS else "NO"
        print(f"{name:<28} {median:>10.1f} {p95:>8.1f} {median / floor:>8.1f}  {ok}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=15, help="timed loads per page")
    asyncio.run(main(parser.parse_args().loads))
