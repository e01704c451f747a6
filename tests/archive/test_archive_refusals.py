"""An archive that cannot be imported as it is, is refused whole, with a reason that names the
line, and not one row, graph node or Redis key is written: every record is checked first."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowFailureError

from memory.archive.records import FORMAT_VERSION
from memory.core.refs import AgentRef
from memory.runtime import MemoryRuntime
from tests.archive.support import import_archive, upload
from tests.conftest import running_worker
from tests.store_counts import changes, snapshot

NOW = datetime(2026, 3, 1, tzinfo=UTC).isoformat()


def header(**changed) -> dict:
    return {
        "kind": "header", "format": "agent-memory-archive", "format_version": FORMAT_VERSION, "archive_id": "a1",
        "source": {"tenant_id": "acme", "agent_id": "support"}, "exported_at": NOW,
        "embedding_model": "offline/hashed-ngrams/256", "memories": True, "user_id": None, **changed,
    }


def note(n: int, content: str = "# Notebook\n- refunds need a receipt\n", version: int | None = None) -> dict:
    return {"kind": "document_version", "id": f"document_version:{n}", "path": "/notebook.md", "version": version or n,
            "content": content, "author": "operator:alice", "reason": "edit", "created_at": NOW}


def recall_item(n: int, thread_id: str = "thread-a") -> dict:
    return {"kind": "recall_item", "id": f"recall_item:{n}", "thread_id": thread_id, "user_id": None,
            "text": f"user: question {n}\nassistant: answer {n}", "occurred_at": NOW}


GOOD = [header(), note(1), note(2), recall_item(3), {"kind": "end", "records": 3}]


def lines(records: list) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


# Each case: what is wrong with the archive, the archive's text, and what the refusal says.
CASES = [
    ("newer format version", lines([header(format_version=FORMAT_VERSION + 1), *GOOD[1:]]),
     f"format version {FORMAT_VERSION + 1}, newer than this runtime reads"),
    ("not an archive", "hello\n", "not an agent memory archive"),
    ("a broken line after good ones", lines([*GOOD[:4], '{"kind": "recall_item", "id": ', GOOD[4]]), "line 5 is not a JSON object"),
    ("a kind the format does not have", lines([*GOOD[:3], {"kind": "vector", "id": "vector:9"}, recall_item(3), GOOD[4]]),
     "line 4 has kind 'vector'"),
    ("cut short", lines(GOOD[:4]), "no end record: it was cut short"),
    ("an unknown field", lines([GOOD[0], {**note(1), "embedding": [0.1, 0.2]}, *GOOD[2:]]), "line 2 (document_version) is malformed"),
    ("versions out of order", lines([GOOD[0], note(1, version=2), note(2, version=1), *GOOD[3:]]),
     "version 1 of /notebook.md comes after version 2"),
    ("a malformed thread id", lines([*GOOD[:3], recall_item(3, thread_id="../etc"), GOOD[4]]), "thread id '../etc' is malformed"),
    ("a blank notebook", lines([GOOD[0], note(1), note(2, content="   "), *GOOD[3:]]), "notebook text is empty"),
    ("a repeated record id", lines([GOOD[0], note(1), note(1, version=2), *GOOD[3:]]), "repeats record id document_version:1"),
]


@pytest.fixture
async def archive_runtime(settings, tmp_path):
    rt = MemoryRuntime.create(settings.model_copy(update={"archive_dir": str(tmp_path / "archives")}))
    yield rt
    await rt.close()


async def test_a_bad_archive_is_refused_with_its_reason_and_nothing_is_written(
    time_skipping_env, archive_runtime, redis_url, tmp_path
):
    rt, client = archive_runtime, time_skipping_env.client
    target = AgentRef(tenant_id=f"dst-{uuid.uuid4().hex[:8]}", agent_id="helper")
    refusals = {}
    async with running_worker(client, rt) as tq:
        before = await snapshot(rt.engine, redis_url)
        for what, text, _ in CASES:
            path = tmp_path / f"{uuid.uuid4().hex}.jsonl"
            path.write_text(text)
            with pytest.raises(WorkflowFailureError) as refused:
                await import_archive(client, target, upload(rt.settings.archive_dir, target.tenant_id, path), tq)
            refusals[what] = str(refused.value.cause.cause)
        after = await snapshot(rt.engine, redis_url)
        good = tmp_path / "good.jsonl"
        good.write_text(lines(GOOD))
        imported = await import_archive(client, target, upload(rt.settings.archive_dir, target.tenant_id, good), tq)

    for what, _, reason in CASES:
        assert reason in refusals[what], (what, refusals[what])
    assert changes(before, after) == {}
    # The same records, well formed, go in: the refusals were about the archive, not the target.
    assert imported.done and imported.counts == {"document_version": 2, "recall_item": 1}
    assert (await rt.notebook.read(target)).version == 2
