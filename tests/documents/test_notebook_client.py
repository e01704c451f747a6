"""clients/notebook.py: an operator shows, edits and audits an agent's notebook."""

from __future__ import annotations

from clients import notebook
from tests.conftest import running_worker


async def test_operator_edits_show_up_in_show_and_history(dev_env, runtime, thread, database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
    text = tmp_path / "notebook.md"
    text.write_text("Dana Smith works at Acme Industries.\n")
    who = ["--tenant", thread.tenant_id, "--agent", thread.agent_id]
    edit = ["edit", *who, "--operator", "alice", "--reason", "company name", "--file", str(text), "--request-id", "fix-1"]

    async with running_worker(dev_env.client, runtime) as tq:
        assert await notebook.main([*edit, "--task-queue", tq]) == 0
        first = capsys.readouterr().out
        # The same request sent again (a retry after a lost answer) adds no second version.
        assert await notebook.main([*edit, "--task-queue", tq]) == 0
        capsys.readouterr()
    assert await notebook.main(["show", *who]) == 0
    shown = capsys.readouterr().out
    assert await notebook.main(["history", *who]) == 0
    history = capsys.readouterr().out

    assert "notebook v1 saved" in first and "graph ingestion: ingested" in first
    assert "Dana Smith works at Acme Industries." in shown and "v1" in shown and "operator:alice" in shown
    assert history.count("\n") == 1 and "operator:alice" in history and "company name" in history


async def test_an_empty_edit_changes_nothing(runtime, thread, database_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    empty = tmp_path / "empty.md"
    empty.write_text("   \n")
    who = ["--tenant", thread.tenant_id, "--agent", thread.agent_id]

    assert await notebook.main(["edit", *who, "--operator", "alice", "--file", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err
    assert await runtime.notebook.read(thread.agent) is None


async def test_a_malformed_agent_id_is_refused(capsys):
    assert await notebook.main(["show", "--tenant", "acme", "--agent", "../etc"]) == 2
    assert "agent id" in capsys.readouterr().err


async def test_a_file_with_a_nul_byte_is_refused_before_anything_is_sent(runtime, thread, database_url, tmp_path, monkeypatch, capsys):
    # No Temporal address: the edit must be refused without reaching for the server.
    monkeypatch.setenv("DATABASE_URL", database_url)
    text = tmp_path / "notebook.md"
    text.write_bytes(b"Dana Smith\x00works at Acme.\n")
    who = ["--tenant", thread.tenant_id, "--agent", thread.agent_id]

    assert await notebook.main(["edit", *who, "--operator", "alice", "--file", str(text)]) == 2
    assert "NUL" in capsys.readouterr().err
    assert await runtime.notebook.read(thread.agent) is None
