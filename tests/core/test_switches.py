"""Run-time switches, tenant plans and the operator clients, on real Postgres.

Global rows are seen by every tenant of the session's database, so a test that sets one
clears it again before it ends.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from contextlib import asynccontextmanager

import pytest

from clients import switches as switches_client
from clients import usage as usage_client
from memory.core.db import create_engine
from memory.core.switches import (
    GLOBAL,
    GRAPH_EXTRACTION,
    INGEST_MIN_CHARS,
    SwitchBoard,
    layer_switch,
)
from memory.core.tenants import TenantRegistry
from memory.core.usage import Action, UsageLedger
from memory.core.validation import InvalidInput
from memory.llm.base import ModelUsage
from tests.conftest import running_worker


def new_tenant() -> str:
    return f"sw-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def board(runtime) -> SwitchBoard:
    return SwitchBoard(runtime.engine)


@asynccontextmanager
async def global_value(board: SwitchBoard, name: str, value):
    await board.set(name, value, tenant_id=None, operator="test")
    try:
        yield
    finally:
        await board.clear(name, tenant_id=None, operator="test")


async def test_defaults_follow_the_tenant_plan(board, runtime):
    tenant = new_tenant()
    assert await runtime.tenants.plan(tenant) == "standard"
    standard = await board.effective(tenant)
    assert (standard.plan, standard.graph_extraction, standard.graph_extraction_source) == (
        "standard",
        True,
        "plan default (standard)",
    )
    assert (standard.ingest_min_chars, standard.sources[INGEST_MIN_CHARS]) == (80, "default")
    assert standard.layers == {
        "graph": True,
        "recall": True,
        "documents": True,
        "notebook": True,
        "conversation_summary": True,
        "episodic": True,
        "skills": True,
    }

    await runtime.tenants.set_plan(tenant, "trial")
    assert await runtime.tenants.plan(tenant) == "trial"
    trial = await board.effective(tenant)
    assert (trial.plan, trial.graph_extraction) == ("trial", False)
    assert trial.graph_extraction_source == "plan default (trial)"


async def test_setting_a_plan_registers_the_tenant_on_the_default_model(runtime, settings):
    tenant = new_tenant()
    await runtime.tenants.set_plan(tenant, "trial")
    assert await runtime.tenants.current_embedding_model(tenant) == settings.embedding_model
    # A later default model does not move a registered tenant, whichever call registered it.
    assert await TenantRegistry(runtime.engine, "offline/hashed-ngrams/512").current_embedding_model(tenant) == (
        settings.embedding_model
    )
    with pytest.raises(InvalidInput, match="unknown plan 'gold': plans are standard, trial"):
        await runtime.tenants.set_plan(tenant, "gold")


async def test_a_flip_is_in_force_on_the_next_read(board, runtime):
    tenant = new_tenant()
    await runtime.tenants.set_plan(tenant, "trial")
    assert not (await board.effective(tenant)).graph_extraction

    await board.set(GRAPH_EXTRACTION, True, tenant_id=tenant, operator="alice", reason="pilot")
    now = await board.effective(tenant)
    assert (now.graph_extraction, now.graph_extraction_source) == (True, "tenant")

    await board.set(INGEST_MIN_CHARS, 5, tenant_id=tenant, operator="alice")
    assert (await board.effective(tenant)).ingest_min_chars == 5

    await board.clear(GRAPH_EXTRACTION, tenant_id=tenant, operator="alice", reason="pilot over")
    back = await board.effective(tenant)
    assert (back.graph_extraction, back.graph_extraction_source) == (False, "plan default (trial)")


async def test_tenant_value_beats_global_value_beats_plan_default(board, runtime):
    trial, standard, own = new_tenant(), new_tenant(), new_tenant()
    await runtime.tenants.set_plan(trial, "trial")
    await board.set(GRAPH_EXTRACTION, True, tenant_id=own, operator="alice")
    await board.set(INGEST_MIN_CHARS, 10, tenant_id=own, operator="alice")

    async with global_value(board, GRAPH_EXTRACTION, False), global_value(board, INGEST_MIN_CHARS, 300):
        for tenant in (trial, standard):
            seen = await board.effective(tenant)
            assert (seen.graph_extraction, seen.graph_extraction_source) == (False, "global")
            assert (seen.ingest_min_chars, seen.sources[INGEST_MIN_CHARS]) == (300, "global")
        mine = await board.effective(own)
        assert (mine.graph_extraction, mine.graph_extraction_source, mine.ingest_min_chars) == (True, "tenant", 10)
        shown = await board.global_switches()
        assert (shown.graph_extraction, shown.ingest_min_chars) == (False, 300)

    # Cleared: each tenant's plan decides again.
    assert (await board.effective(standard)).graph_extraction
    assert not (await board.effective(trial)).graph_extraction
    assert (await board.global_switches()).graph_extraction is None


async def test_layer_kill_switches_are_global_only(board):
    tenant = new_tenant()
    with pytest.raises(InvalidInput, match="layer.graph.enabled is a global switch"):
        await board.set(layer_switch("graph"), False, tenant_id=tenant, operator="alice")

    async with global_value(board, layer_switch("graph"), False):
        seen = await board.effective(tenant)
        assert seen.layers["graph"] is False
        assert seen.sources["layer.graph.enabled"] == "global"
        assert seen.layers["recall"] is True
    assert (await board.effective(tenant)).layers["graph"] is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("graph_extractoin", True, "unknown switch 'graph_extractoin': switches are graph_extraction, ingest_min"),
        ("layer.vectors.enabled", False, "unknown switch 'layer.vectors.enabled'"),
        (GRAPH_EXTRACTION, 1, r"graph_extraction takes on or off \(a boolean\), got 1"),
        (GRAPH_EXTRACTION, "off", r"graph_extraction takes on or off \(a boolean\), got 'off'"),
        (INGEST_MIN_CHARS, True, "ingest_min_chars takes a whole number >= 0, got True"),
        (INGEST_MIN_CHARS, -1, "ingest_min_chars takes a whole number >= 0, got -1"),
        (INGEST_MIN_CHARS, 2.5, "ingest_min_chars takes a whole number >= 0, got 2.5"),
    ],
)
async def test_unknown_names_and_wrong_types_are_refused(board, name, value, message):
    tenant = new_tenant()
    with pytest.raises(InvalidInput, match=message):
        await board.set(name, value, tenant_id=tenant, operator="alice")
    assert await board.history(tenant) == []


async def test_a_change_must_name_its_operator_and_a_real_tenant(board):
    with pytest.raises(InvalidInput, match="must name its operator"):
        await board.set(GRAPH_EXTRACTION, True, tenant_id=new_tenant(), operator="  ")
    with pytest.raises(InvalidInput, match="tenant id 'Acme Corp' is malformed"):
        await board.set(GRAPH_EXTRACTION, True, tenant_id="Acme Corp", operator="alice")
    with pytest.raises(InvalidInput, match="tenant id '\\*' is malformed"):
        await board.effective(GLOBAL)
    with pytest.raises(InvalidInput, match="operator name contains a NUL byte"):
        await board.set(GRAPH_EXTRACTION, True, tenant_id=new_tenant(), operator="ali\x00ce")
    with pytest.raises(InvalidInput, match="reason contains a NUL byte"):
        await board.set(GRAPH_EXTRACTION, True, tenant_id=new_tenant(), operator="alice", reason="trial\x00")


async def test_history_says_who_flipped_what_and_why(board):
    tenant = new_tenant()
    await board.set(GRAPH_EXTRACTION, False, tenant_id=tenant, operator="alice", reason="cost review")
    await board.set(INGEST_MIN_CHARS, 200, tenant_id=tenant, operator="bob")
    await board.clear(GRAPH_EXTRACTION, tenant_id=tenant, operator="carol", reason="back to plan")

    changes = await board.history(tenant)
    assert [(c.name, c.value, c.operator, c.reason) for c in changes] == [
        (GRAPH_EXTRACTION, None, "carol", "back to plan"),
        (INGEST_MIN_CHARS, 200, "bob", ""),
        (GRAPH_EXTRACTION, False, "alice", "cost review"),
    ]
    assert [c.operator for c in await board.history(tenant, GRAPH_EXTRACTION)] == ["carol", "alice"]
    assert [c.operator for c in await board.history(tenant, limit=1)] == ["carol"]

    async with global_value(board, layer_switch("notebook"), False):
        [latest] = await board.history(GLOBAL, layer_switch("notebook"), limit=1)
        assert (latest.tenant_id, latest.value) == (None, False)


# --- the operator clients, through their command lines ---


def switch_table(out: str) -> dict[str, tuple[str, str]]:
    """The printed switches as name -> (value, where the value comes from)."""
    rows = {}
    for line in out.splitlines():
        if line.startswith("  "):
            name, value, source = line.split(maxsplit=2)
            rows[name] = (value, source)
    return rows


@pytest.fixture
def database_env(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)


@asynccontextmanager
async def switch_worker(monkeypatch, time_skipping_env, runtime):
    """Changes run as SwitchChangeWorkflow: the client script finds Temporal and the worker's
    task queue in its environment, and runs in a thread beside the worker's event loop."""
    client = time_skipping_env.client
    async with running_worker(client, runtime) as tq:
        monkeypatch.setenv("TEMPORAL_ADDRESS", client.service_client.config.target_host)
        monkeypatch.setenv("TASK_QUEUE", tq)
        yield lambda argv: asyncio.to_thread(switches_client.main, argv)


async def test_switches_client_flip_shows_immediately(database_env, capsys, monkeypatch, time_skipping_env, runtime):
    async with switch_worker(monkeypatch, time_skipping_env, runtime) as main:
        await _flip_shows_immediately(main, capsys)


async def _flip_shows_immediately(main, capsys):
    tenant = new_tenant()
    assert await main(["plan", "--tenant", tenant, "trial", "--operator", "alice"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"tenant {tenant} (plan trial)\n")
    assert switch_table(out)["graph_extraction"] == ("off", "plan default (trial)")

    flip = ["set", "graph_extraction", "ON", "--tenant", tenant, "--operator", "alice", "--reason", "pilot"]
    assert await main(flip) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"graph_extraction set to on for tenant {tenant} by alice\n")
    assert switch_table(out)["graph_extraction"] == ("on", "tenant")

    assert await main(["show", "--tenant", tenant]) == 0
    table = switch_table(capsys.readouterr().out)
    assert table["graph_extraction"] == ("on", "tenant")
    assert table["ingest_min_chars"] == ("80", "default")
    assert table["layer.graph.enabled"] == ("on", "default")

    assert await main(["history", "--tenant", tenant]) == 0
    out = capsys.readouterr().out
    assert f"tenant {tenant}" in out
    assert "graph_extraction = on by alice: pilot" in out

    assert await main(["show", "--tenant", tenant, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["graph_extraction_source"] == "tenant"


async def test_switches_client_global_switches(database_env, capsys, monkeypatch, time_skipping_env, runtime):
    async with switch_worker(monkeypatch, time_skipping_env, runtime) as main:
        await _global_switches(main, capsys)


async def _global_switches(main, capsys):
    flip = ["set", "layer.documents.enabled", "off", "--global", "--operator", "alice", "--reason", "incident 42"]
    assert await main(flip) == 0
    try:
        assert "layer.documents.enabled set to off globally by alice" in capsys.readouterr().out
        assert await main(["show", "--global"]) == 0
        table = switch_table(capsys.readouterr().out)
        assert table["layer.documents.enabled"] == ("off", "global")
        assert table["graph_extraction"] == ("-", "plan default (per tenant)")
    finally:
        clear = ["set", "layer.documents.enabled", "default", "--global", "--operator", "alice"]
        assert await main(clear) == 0
    assert "layer.documents.enabled cleared globally by alice" in capsys.readouterr().out
    assert await main(["show", "--global"]) == 0
    assert switch_table(capsys.readouterr().out)["layer.documents.enabled"] == ("on", "default")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["set", "graph_extraction", "maybe", "--tenant", "acme"], "graph_extraction takes on, off, true or false"),
        (["set", "ingest_min_chars", "lots", "--global"], "ingest_min_chars takes a whole number >= 0, got 'lots'"),
        (["set", "graph_extractoin", "on", "--tenant", "acme"], "unknown switch 'graph_extractoin'"),
        (["set", "layer.graph.enabled", "off", "--tenant", "acme"], "layer.graph.enabled is a global switch"),
        (["show", "--tenant", "ACME"], "tenant id 'ACME' is malformed"),
        (["history", "--name", "nope"], "unknown switch 'nope'"),
    ],
)
def test_switches_client_refuses_bad_input(database_env, capsys, argv, message):
    if argv[0] == "set":
        argv = [*argv, "--operator", "alice"]
    assert switches_client.main(argv) == 2
    assert message in capsys.readouterr().err


def test_switches_client_needs_both_a_scope_and_an_operator(database_env, capsys):
    assert switches_client.main(["set", "graph_extraction", "on", "--operator", "a"]) == 2
    assert "one of the arguments --tenant --global is required" in capsys.readouterr().err
    assert switches_client.main(["set", "graph_extraction", "on", "--global"]) == 2
    assert "--operator" in capsys.readouterr().err


def test_clients_name_a_missing_or_unreachable_database(monkeypatch, capsys):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert switches_client.main(["show", "--global"]) == 1
    assert "DATABASE_URL is not set" in capsys.readouterr().err
    assert usage_client.main([]) == 1
    assert "DATABASE_URL is not set" in capsys.readouterr().err

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/agent_memory")
    assert usage_client.main([]) == 1
    assert "cannot reach Postgres at DATABASE_URL" in capsys.readouterr().err


# --- the usage report ---


async def record(ledger: UsageLedger, tenant: str, action: Action, model: str, **tokens) -> None:
    await ledger.record(
        f"{tenant}/{uuid.uuid4().hex}",
        tenant,
        action,
        provider=model.split("/")[0],
        model=model.split("/", 1)[1],
        usage=ModelUsage(**tokens),
    )


async def test_usage_report_groups_by_tenant_and_action(runtime):
    tenant, other = new_tenant(), new_tenant()
    ledger = UsageLedger(runtime.engine)
    extraction, haiku = Action.GRAPH_EXTRACTION, "anthropic/claude-haiku"
    await record(ledger, tenant, extraction, haiku, input_tokens=100, output_tokens=20)
    await record(ledger, tenant, extraction, haiku, input_tokens=50, output_tokens=5, cache_read_input_tokens=40)
    await record(ledger, tenant, extraction, "openai/gpt-4o-mini", input_tokens=1)
    sonnet = "anthropic/claude-sonnet"
    await record(ledger, tenant, Action.AGENT_TURN, sonnet, input_tokens=900, cache_creation_input_tokens=8)
    await record(ledger, other, Action.DOCUMENT_EMBED, "voyage/voyage-3", input_tokens=7)

    rows = await ledger.report(tenant)
    tokens = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    assert [(r.action, r.calls, *(getattr(r, t) for t in tokens), r.models) for r in rows] == [
        ("agent_turn", 1, 900, 0, 0, 8, ["anthropic/claude-sonnet"]),
        ("graph_extraction", 3, 151, 25, 40, 0, ["anthropic/claude-haiku", "openai/gpt-4o-mini"]),
    ]
    both = {(r.tenant_id, r.action) for r in await ledger.report()}
    assert {(tenant, "graph_extraction"), (other, "document_embed")} <= both


def test_usage_client_separates_memory_layers_from_the_agent(database_url, database_env, capsys):
    tenant = new_tenant()

    # The client runs its own event loop, so this test is synchronous and seeds on one too.
    async def seed() -> None:
        engine = create_engine(database_url, pool_size=1)
        try:
            ledger = UsageLedger(engine)
            await record(ledger, tenant, Action.EPISODE_SUMMARY, "offline/model", input_tokens=1200, output_tokens=80)
            await record(ledger, tenant, Action.GRAPH_EMBED, "offline/embedder", input_tokens=30)
            await record(ledger, tenant, Action.AGENT_TURN, "offline/model", input_tokens=5000, output_tokens=400)
        finally:
            await engine.dispose()

    asyncio.run(seed())
    assert usage_client.main(["--tenant", tenant]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"tenant {tenant}"
    labels = [line.split()[0] for line in lines[2:]]
    assert labels == ["episode_summary", "graph_embed", "=", "agent_turn", "="]
    assert lines[4].split()[:4] == ["=", "memory", "layers", "2"]
    assert lines[4].split()[4:7] == ["1,230", "80", "0"]
    assert lines[6].split()[:5] == ["=", "agent", "1", "5,000", "400"]

    assert usage_client.main(["--tenant", tenant, "--json"]) == 0
    [report] = json.loads(capsys.readouterr().out)
    assert report["memory_layers_total"]["input_tokens"] == 1230
    assert report["agent_total"]["calls"] == 1

    assert usage_client.main(["--tenant", tenant, "--since", "2999-01-01"]) == 0
    assert f"no usage recorded for tenant {tenant} since 2999-01-01T00:00:00+00:00" in capsys.readouterr().out
    assert usage_client.main(["--since", "last week"]) == 2
    assert "--since 'last week' is not an ISO date" in capsys.readouterr().err


async def test_a_change_made_again_under_the_same_key_is_recorded_once(board, runtime):
    tenant = new_tenant()
    for _ in range(2):  # an activity retried after its write
        await board.set(GRAPH_EXTRACTION, False, tenant_id=tenant, operator="alice", reason="cost", change_key=f"k/{tenant}/1")
        await runtime.tenants.set_plan(tenant, "trial", operator="alice", reason="pilot", change_key=f"k/{tenant}/2")
    await runtime.tenants.set_plan(tenant, "standard", operator="bob", reason="paid", change_key=f"k/{tenant}/3")

    assert [(c.value, c.operator, c.reason) for c in await board.history(tenant)] == [(False, "alice", "cost")]
    assert [(p.plan, p.operator) for p in await runtime.tenants.plan_history(tenant)] == [("standard", "bob"), ("trial", "alice")]
    assert (await board.effective(tenant)).plan == "standard"
