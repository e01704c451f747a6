"""The agent's notebook: one authoritative document per agent at /notebook.md.

Edits are deliberate (a tool call by the agent or an operator's edit), never automatic.
Any user of the agent can ask it to remember something, and the notebook is sent whole in
every prompt of every thread of the agent; so every write is held to the size cap, and the
agent's own notes to a write rate per thread and per agent (counted in the store, so every
worker sees the same count). A refused note is an error the model reads as its tool result.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from memory.core.refs import AgentRef, ThreadRef
from memory.core.validation import InvalidInput, check_storable
from memory.documents.path_store import DocumentStore, DocumentVersion

NOTEBOOK_PATH = "/notebook.md"
MAX_NOTE_CHARS = 4_000
# The notebook is the whole of an agent's authoritative memory, sent in every prompt.
MAX_NOTEBOOK_CHARS = 64_000


def check_notebook_text(content: object) -> str:
    """A whole new notebook, as an operator sends it. A blank one would wipe what the agent
    holds authoritative, which no edit means to do."""
    if not isinstance(content, str):
        raise InvalidInput(f"the new notebook text must be a string, got {type(content).__name__}")
    if not content.strip():
        raise InvalidInput("the new notebook text is empty or whitespace only; nothing was changed")
    if len(content) > MAX_NOTEBOOK_CHARS:
        raise InvalidInput(f"the new notebook text is {len(content)} characters; the limit is {MAX_NOTEBOOK_CHARS}")
    return check_storable("the new notebook text", content)


class NotebookFull(InvalidInput):
    """The note would take the notebook past its cap; an operator condenses it."""


class NotebookRateLimited(InvalidInput):
    """Too many notes in the last hour, from this thread or for this agent."""


class NotebookLimits(BaseModel):
    # The agent's own notes (the notebook_edit tool) per rolling hour.
    writes_per_thread_per_hour: int = Field(default=20, ge=1)
    writes_per_agent_per_hour: int = Field(default=120, ge=1)


_HOUR = 3600.0


class Notebook:
    def __init__(self, documents: DocumentStore, limits: NotebookLimits | None = None):
        self._documents = documents
        self._limits = limits or NotebookLimits()

    async def read(self, agent: AgentRef) -> DocumentVersion | None:
        return await self._documents.latest(agent, NOTEBOOK_PATH)

    async def append_note(
        self, agent: AgentRef, note: str, *, author: str, idempotency_key: str, thread: ThreadRef | None = None
    ) -> DocumentVersion:
        """Append `- note`. Given the thread the agent wrote it from, the write rates apply."""
        note = " ".join(note.split())
        if not note:
            raise InvalidInput("a notebook note cannot be empty")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"a notebook note is limited to {MAX_NOTE_CHARS} characters")
        # A retried write returns what its first attempt wrote, before any limit is counted.
        if done := await self._documents.version_for_key(agent, idempotency_key):
            return done
        if thread is not None:
            await self._check_rates(thread)
        current = await self.read(agent)
        body = current.content.rstrip("\n") + "\n" if current else "# Notebook\n"
        content = f"{body}- {note}\n"
        if len(content) > MAX_NOTEBOOK_CHARS:
            raise NotebookFull(
                f"the notebook is full: {len(body)} of {MAX_NOTEBOOK_CHARS} characters are used and this note needs "
                f"{len(note) + 3} more; it was not saved. Tell the user; an operator can condense the notebook"
            )
        return await self._documents.write(
            agent,
            NOTEBOOK_PATH,
            content=content,
            author=author,
            reason="append note",
            idempotency_key=idempotency_key,
        )

    async def _check_rates(self, thread: ThreadRef) -> None:
        limits = self._limits
        in_thread = await self._documents.writes_within(thread.agent, NOTEBOOK_PATH, _HOUR, key_prefix=thread.key + "/")
        if in_thread >= limits.writes_per_thread_per_hour:
            raise NotebookRateLimited(
                f"this conversation already saved {in_thread} notes in the last hour (the limit is "
                f"{limits.writes_per_thread_per_hour}); this note was not saved. Try again later"
            )
        for_agent = await self._documents.writes_within(thread.agent, NOTEBOOK_PATH, _HOUR)
        if for_agent >= limits.writes_per_agent_per_hour:
            raise NotebookRateLimited(
                f"the notebook already took {for_agent} writes in the last hour (the limit is "
                f"{limits.writes_per_agent_per_hour} for the agent); this note was not saved. Try again later"
            )

    async def replace(
        self, agent: AgentRef, content: str, *, author: str, idempotency_key: str, reason: str = "replace"
    ) -> DocumentVersion:
        check_notebook_text(content)
        return await self._documents.write(
            agent, NOTEBOOK_PATH, content=content, author=author, reason=reason, idempotency_key=idempotency_key
        )
