"""The path-routed document store behind the notebook."""

from __future__ import annotations

import pytest

from memory.documents import normalise_path
from memory.validation import InvalidInput


@pytest.mark.parametrize("path", ["notebook.md", "/../etc/passwd", "/a/../b", "/a\x00b", "/" + "a" * 300, "/", "/a b"])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(InvalidInput):
        normalise_path(path)


def test_paths_are_normalised():
    assert normalise_path("//skills///refunds.md") == "/skills/refunds.md"


async def test_every_edit_is_a_new_version_and_retries_do_not_add_one(runtime, thread):
    agent = thread.agent
    await runtime.notebook.append_note(agent, "likes tea", author="agent", idempotency_key=f"{thread.key}/n1")
    await runtime.notebook.append_note(agent, "likes tea", author="agent", idempotency_key=f"{thread.key}/n1")
    await runtime.notebook.replace(agent, "# Notebook\n- prefers coffee\n", author="operator:ana", idempotency_key=f"{thread.key}/n2")
    history = await runtime.documents.history(agent, "/notebook.md")
    assert [(v.version, v.author) for v in history] == [(2, "operator:ana"), (1, "agent")]
    assert (await runtime.notebook.read(agent)).content == "# Notebook\n- prefers coffee\n"
    other_agent = agent.model_copy(update={"agent_id": "sales"})
    assert await runtime.notebook.read(other_agent) is None
