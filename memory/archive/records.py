"""The archive's records: one JSON object per line, told apart by `kind`.

The first line is the header (format, version, where the archive came from), the last is
the end record (how many records came between): an archive cut short has no end record and
is refused. The format is written down in docs/archive-format.md; bump FORMAT_VERSION for
any change an older reader would misread, and keep reading every older version.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from memory.archive.models import Source

FORMAT = "agent-memory-archive"
FORMAT_VERSION = 1
# A record id is the record's kind and the id of the row it came from: stable across exports
# of the same source, so an import derives its idempotency keys from it.
RECORD_ID = r"^[a-z_]{1,32}:[0-9]{1,19}$"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Header(_Record):
    kind: Literal["header"]
    format: Literal["agent-memory-archive"]
    format_version: int = Field(ge=1)
    archive_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    source: Source
    exported_at: AwareDatetime
    # The source's embedding model, for the record only: an import always re-embeds with the
    # target tenant's own model, never reusing a vector.
    embedding_model: str
    memories: bool
    user_id: str | None = None


class AgentVersionRecord(_Record):
    kind: Literal["agent_version"]
    id: str = Field(pattern=RECORD_ID)
    version: int = Field(ge=1)
    spec: dict[str, Any]
    mcp_tools: list[dict[str, Any]] = []
    author: str
    note: str = ""
    created_at: AwareDatetime


class DocumentVersionRecord(_Record):
    """A version of a path-store document: the notebook (/notebook.md) or a skill
    (/skills/<task-type>.md). Versions of one path come in version order."""

    kind: Literal["document_version"]
    id: str = Field(pattern=RECORD_ID)
    path: str
    version: int = Field(ge=1)
    content: str
    author: str
    reason: str = ""
    created_at: AwareDatetime


class SkillLockRecord(_Record):
    kind: Literal["skill_lock"]
    id: str = Field(pattern=RECORD_ID)
    path: str


class DocumentRecord(_Record):
    """An uploaded document, whole: an import sends it down the normal ingestion path."""

    kind: Literal["document"]
    id: str = Field(pattern=RECORD_ID)
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    text: str
    created_at: AwareDatetime


class MessageRecord(_Record):
    kind: Literal["message"]
    id: str = Field(pattern=RECORD_ID)
    thread_id: str
    user_id: str | None = None
    turn: int = Field(ge=1)
    role: Literal["user", "assistant"]
    content: str
    created_at: AwareDatetime


class RecallItemRecord(_Record):
    """A remembered exchange, as text: its vector is never exported."""

    kind: Literal["recall_item"]
    id: str = Field(pattern=RECORD_ID)
    thread_id: str
    user_id: str | None = None
    text: str = Field(min_length=1, max_length=100_000)
    occurred_at: AwareDatetime


class EpisodeRecordLine(_Record):
    kind: Literal["episode"]
    id: str = Field(pattern=RECORD_ID)
    thread_id: str
    user_id: str | None = None
    turn: int = Field(ge=1)
    occurred_at: AwareDatetime
    task_type: str = Field(min_length=1, max_length=64)
    outcome: Literal["succeeded", "failed", "corrected"]
    tools_used: list[str] = []
    summary: str
    # None when retention had already cut the episode down to its summary.
    transcript: str | None = None


class End(_Record):
    kind: Literal["end"]
    records: int = Field(ge=0)


Record = Annotated[
    Union[
        AgentVersionRecord,
        DocumentVersionRecord,
        SkillLockRecord,
        DocumentRecord,
        MessageRecord,
        RecallItemRecord,
        EpisodeRecordLine,
    ],
    Field(discriminator="kind"),
]
RECORD_KINDS = ("agent_version", "document_version", "skill_lock", "document", "message", "recall_item", "episode")
MEMORY_KINDS = ("message", "recall_item", "episode")

RECORD = TypeAdapter(Record)


def line_of(record: BaseModel) -> str:
    return record.model_dump_json(exclude_none=False) + "\n"
