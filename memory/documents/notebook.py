"""The agent's notebook: one authoritative document per agent at /notebook.md.

Edits are deliberate (a tool call by the agent or an operator's edit), never automatic.
"""

from __future__ import annotations

from memory.core.refs import AgentRef
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


class Notebook:
    def __init__(self, documents: DocumentStore):
        self._documents = documents

    async def read(self, agent: AgentRef) -> DocumentVersion | None:
        return await self._documents.latest(agent, NOTEBOOK_PATH)

    async def append_note(self, agent: AgentRef, note: str, *, author: str, idempotency_key: str) -> DocumentVersion:
        note = " ".join(note.split())
        if not note:
            raise InvalidInput("a notebook note cannot be empty")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"a notebook note is limited to {MAX_NOTE_CHARS} characters")
        current = await self.read(agent)
        body = current.content.rstrip("\n") + "\n" if current else "# Notebook\n"
        return await self._documents.write(
            agent,
            NOTEBOOK_PATH,
            content=f"{body}- {note}\n",
            author=author,
            reason="append note",
            idempotency_key=idempotency_key,
        )

    async def replace(
        self, agent: AgentRef, content: str, *, author: str, idempotency_key: str, reason: str = "replace"
    ) -> DocumentVersion:
        check_notebook_text(content)
        return await self._documents.write(
            agent, NOTEBOOK_PATH, content=content, author=author, reason=reason, idempotency_key=idempotency_key
        )
