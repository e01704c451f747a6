"""The path-routed document store behind the notebook."""

from __future__ import annotations

import pytest

from memory.core.validation import InvalidInput
from memory.documents.notebook import NOTEBOOK_PATH
from memory.documents.path_store import normalise_path


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


@pytest.mark.parametrize(
    "field, content, author, reason",
    [
        ("text", "# Notebook\n- Dana\x00Smith\n", "operator:ana", "edit"),
        ("author", "# Notebook\n", "operator:ana\x00", "edit"),
        ("reason", "# Notebook\n", "operator:ana", "typo\x00"),
    ],
)
async def test_a_nul_byte_is_refused_by_name_and_nothing_is_written(runtime, thread, field, content, author, reason):
    with pytest.raises(InvalidInput, match=f"{field} .*NUL"):
        await runtime.documents.write(
            thread.agent, NOTEBOOK_PATH, content=content, author=author, reason=reason, idempotency_key=f"{thread.key}/nul"
        )
    assert await runtime.documents.history(thread.agent, NOTEBOOK_PATH) == []


@pytest.mark.parametrize("content", ["", " \n\t ", "\n\n"])
async def test_a_blank_notebook_never_replaces_the_agents_notebook(runtime, thread, content):
    await runtime.notebook.replace(thread.agent, "# Notebook\n- prefers tea\n", author="operator:ana", idempotency_key=f"{thread.key}/1")
    with pytest.raises(InvalidInput, match="empty"):
        await runtime.notebook.replace(thread.agent, content, author="operator:bob", idempotency_key=f"{thread.key}/2")
    assert (await runtime.notebook.read(thread.agent)).content == "# Notebook\n- prefers tea\n"


async def test_an_empty_note_from_the_agent_is_refused_as_bad_input(runtime, thread):
    # InvalidInput, not a bare ValueError: the activity reports it at once instead of retrying it.
    with pytest.raises(InvalidInput, match="cannot be empty"):
        await runtime.notebook.append_note(thread.agent, " \n ", author="agent", idempotency_key=f"{thread.key}/blank")
    assert await runtime.notebook.read(thread.agent) is None
