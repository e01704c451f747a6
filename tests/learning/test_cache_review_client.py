"""clients/cache_review.py: an operator works through the sampled session-cache substitutions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from clients import cache_review
from memory.core.db import create_engine
from memory.learning.cache_audit import AuditEntry, CacheAudit
from memory.learning.session_cache import SessionContext, Substitution


def sampled(database_url: str, ctx: SessionContext, *pairs: tuple[str, str]) -> list[AuditEntry]:
    """Audit rows as a cache with audit sampling would write them on serving these pairs."""

    async def write() -> list[AuditEntry]:
        engine = create_engine(database_url, pool_size=1)
        try:
            now = datetime.now(UTC)
            return [
                await CacheAudit(engine).write(ctx, Substitution(
                    tried=tried, instead=instead, command_key=tried, source="tool_recovery",
                    recorded_at=now, expires_at=now + timedelta(hours=6),
                ))
                for tried, instead in pairs
            ]
        finally:
            await engine.dispose()

    return asyncio.run(write())


@pytest.fixture
def database_env(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)


@pytest.fixture
def ctx(thread) -> SessionContext:
    return SessionContext(tenant_id=thread.tenant_id, agent_id="support", session_id="s-7")


def listed_ids(out: str) -> list[int]:
    return [int(line.split()[0]) for line in out.splitlines()[1:]]


def test_list_then_approve_and_reject_empties_the_queue(database_env, database_url, ctx, capsys):
    tenant = ["--tenant", ctx.tenant_id]
    assert cache_review.main(["list", *tenant]) == 0
    assert capsys.readouterr().out.strip() == "no pending audit entries"

    first, second = sampled(database_url, ctx, ("make test", "make check"), ("cat README", "cat README.md"))
    assert cache_review.main(["list", *tenant]) == 0
    out = capsys.readouterr().out
    assert listed_ids(out) == [first.id, second.id]
    assert "make test -> make check" in out and "s-7" in out and "tool_recovery" in out

    assert cache_review.main(["approve", str(first.id), "--reviewer", "alice"]) == 0
    assert capsys.readouterr().out.startswith(f"audit entry {first.id} approved by alice\n")
    reject = ["reject", str(second.id), "--reviewer", "bob", "--note", "README.md was a guess"]
    assert cache_review.main(reject) == 0
    assert f"audit entry {second.id} rejected by bob: README.md was a guess" in capsys.readouterr().out

    assert cache_review.main(["list", *tenant]) == 0
    assert capsys.readouterr().out.strip() == "no pending audit entries"


def test_list_limits_and_filters_by_tenant(database_env, database_url, ctx, capsys):
    other = ctx.model_copy(update={"tenant_id": f"{ctx.tenant_id}-b"})
    mine = sampled(database_url, ctx, ("a", "b"), ("c", "d"), ("e", "f"))
    sampled(database_url, other, ("x", "y"))

    assert cache_review.main(["list", "--tenant", ctx.tenant_id, "--limit", "2"]) == 0
    assert listed_ids(capsys.readouterr().out) == [mine[0].id, mine[1].id]
    assert cache_review.main(["list", "--limit", "1000"]) == 0
    everyone = capsys.readouterr().out
    assert ctx.tenant_id in everyone and other.tenant_id in everyone


def test_reviewing_twice_is_refused_and_keeps_the_first_verdict(database_env, database_url, ctx, capsys):
    (entry,) = sampled(database_url, ctx, ("make test", "make check"))
    assert cache_review.main(["approve", str(entry.id), "--reviewer", "alice"]) == 0
    capsys.readouterr()

    assert cache_review.main(["reject", str(entry.id), "--reviewer", "bob"]) == 2
    assert f"audit entry {entry.id} was already approved by alice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["approve", "999999999", "--reviewer", "alice"], "no audit entry 999999999"),
        (["approve", "-3", "--reviewer", "alice"], "must be a positive whole number"),
        (["reject", "1", "--reviewer", "  "], "--reviewer must name who reviews"),
        (["list", "--tenant", "ACME"], "tenant id 'ACME' is malformed"),
        (["list", "--limit", "0"], "--limit must be 1-1000"),
        (["approve", "seven", "--reviewer", "alice"], "invalid int value: 'seven'"),
        (["approve", "1"], "the following arguments are required: --reviewer"),
    ],
)
def test_bad_input_is_refused_with_a_message(database_env, capsys, argv, message):
    assert cache_review.main(argv) == 2
    assert message in capsys.readouterr().err


def test_the_embedded_stacks_database_is_found_without_database_url(database_url, ctx, tmp_path, monkeypatch, capsys):
    (tmp_path / "stack.env").write_text(f"TEMPORAL_ADDRESS=127.0.0.1:7233\nDATABASE_URL={database_url}\n")
    monkeypatch.setenv("DATABASE_URL", "")  # restored after the test, whatever the client sets
    monkeypatch.setenv("AGENT_MEMORY_DATA_DIR", str(tmp_path))
    (entry,) = sampled(database_url, ctx, ("ls -la", "ls -l"))

    assert cache_review.main(["list", "--tenant", ctx.tenant_id]) == 0
    assert listed_ids(capsys.readouterr().out) == [entry.id]


def test_without_any_database_the_client_says_what_to_set(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("AGENT_MEMORY_DATA_DIR", str(tmp_path))
    assert cache_review.main(["list"]) == 1
    assert "DATABASE_URL is not set" in capsys.readouterr().err
