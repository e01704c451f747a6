"""The embedded stack starts, answers on every service, keeps its data across a restart, and stops."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import redis
import sqlalchemy
from falkordb import FalkorDB
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from contract.search_attributes import SEARCH_ATTRIBUTES
from stack.embedded import EmbeddedStack, StackError

pytestmark = pytest.mark.timeout(90)


def _free_ports(count: int) -> list[int]:
    # Held open together so the OS hands out distinct ports.
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[EmbeddedStack]:
    temporal_port, ui_port, redis_port = _free_ports(3)
    s = EmbeddedStack(tmp_path / "data", temporal_port=temporal_port, ui_port=ui_port, redis_port=redis_port)
    yield s
    s.stop()


async def test_services_answer_and_data_survives_restart(stack: EmbeddedStack) -> None:
    urls = await asyncio.to_thread(stack.start)

    client = await Client.connect(urls.temporal_address)
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
    for name, _ in SEARCH_ATTRIBUTES:
        assert name in listed.custom_attributes

    with psycopg.connect(urls.postgres_dsn, autocommit=True) as conn:
        row = conn.execute("select extversion from pg_extension where extname = 'vector'").fetchone()
        assert row is not None and row[0].startswith("0.")
        conn.execute("create table survives_restart (value int)")
        conn.execute("insert into survives_restart values (42)")
    engine = sqlalchemy.create_engine(urls.database_url)
    with engine.connect() as conn:
        assert conn.execute(sqlalchemy.text("select current_database()")).scalar() == "agent_memory"
    engine.dispose()

    kv = redis.Redis.from_url(urls.redis_url)
    assert kv.ping()
    kv.set("survives_restart", "yes")
    header, rows, _stats = kv.execute_command("GRAPH.QUERY", "g", "RETURN 1")
    assert rows == [[1]]
    kv.close()
    graph = FalkorDB.from_url(urls.graph_url).select_graph("memory")
    graph.query("CREATE (:Fact {text: 'the sky is blue'})")

    first_pids = stack.pids
    assert set(first_pids) == {"temporal", "postgres", "falkordb"}
    await asyncio.to_thread(stack.stop)
    assert all(_gone(pid) for pid in first_pids.values()), first_pids
    assert stack.pids == {}

    urls = await asyncio.to_thread(stack.start)
    with psycopg.connect(urls.postgres_dsn) as conn:
        assert conn.execute("select value from survives_restart").fetchall() == [(42,)]
    kv = redis.Redis.from_url(urls.redis_url)
    assert kv.get("survives_restart") == b"yes"
    kv.close()
    facts = FalkorDB.from_url(urls.graph_url).select_graph("memory").query("MATCH (f:Fact) RETURN f.text")
    assert facts.result_set == [["the sky is blue"]]
    client = await Client.connect(urls.temporal_address)
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
    assert "TenantId" in listed.custom_attributes

    second_pids = stack.pids
    await asyncio.to_thread(stack.stop)
    assert all(_gone(pid) for pid in second_pids.values()), second_pids


def test_refuses_a_port_in_use(tmp_path: Path) -> None:
    temporal_port, ui_port = _free_ports(2)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        stack = EmbeddedStack(tmp_path / "data", temporal_port=temporal_port, ui_port=ui_port, redis_port=busy)
        with pytest.raises(StackError, match=rf"FalkorDB/Redis port {busy}.*REDIS_PORT"):
            stack.start()
    assert stack.pids == {}
    assert not (tmp_path / "data").exists()


def test_ports_from_environment(tmp_path: Path) -> None:
    stack = EmbeddedStack.from_env(
        tmp_path, {"TEMPORAL_PORT": "17233", "TEMPORAL_UI_PORT": "18233", "REDIS_PORT": "16390"}
    )
    assert (stack.temporal_port, stack.ui_port, stack.redis_port) == (17233, 18233, 16390)
    assert EmbeddedStack.from_env(tmp_path, {}).temporal_port == 7233
    with pytest.raises(ValueError, match="REDIS_PORT"):
        EmbeddedStack.from_env(tmp_path, {"REDIS_PORT": "six"})


def test_failed_start_reports_the_log_and_stops_what_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "temporal"
    fake.write_text("#!/bin/sh\necho 'cannot open the database file' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr("stack.embedded.temporal_binary", lambda: str(fake))
    temporal_port, ui_port, redis_port = _free_ports(3)
    stack = EmbeddedStack(tmp_path / "data", temporal_port=temporal_port, ui_port=ui_port, redis_port=redis_port)
    with pytest.raises(StackError, match=r"(?s)exited with code 3.*cannot open the database file"):
        stack.start()
    assert stack.pids == {}
    assert not stack.running
    # PostgreSQL removes its postmaster.pid only on a clean shutdown.
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists()


def test_compose_registers_the_same_search_attributes() -> None:
    compose = (Path(__file__).parent.parent / "docker-compose.yml").read_text()
    registered = re.findall(r"--name (\w+) --type (\w+)", compose)
    assert registered == list(SEARCH_ATTRIBUTES)
