"""The archive's types that cross its boundary (workflows, activities, clients): no store."""

from __future__ import annotations

from pydantic import BaseModel


class FileStamp(BaseModel):
    """What an import checks before each page: the file it validated is the file it reads."""

    bytes: int
    sha256: str
    modified_ns: int


class Source(BaseModel):
    tenant_id: str
    agent_id: str


class ArchivePlan(BaseModel):
    """What a validated archive holds, and the file it was read from."""

    archive_id: str
    format_version: int
    source: Source
    embedding_model: str
    memories: bool
    records: int
    counts: dict[str, int]
    file: FileStamp


class ExportCursor(BaseModel):
    kind: str = "agent_version"
    after_id: int = 0


class ExportPageWritten(BaseModel):
    counts: dict[str, int]
    # None once every kind is read.
    next: ExportCursor | None


class ExportWritten(BaseModel):
    bytes: int
    sha256: str
    embedding_model: str


class StoredArchiveDocument(BaseModel):
    """A document an import page stored; the workflow sends it on to recall and the graph."""

    name: str
    sha256: str
    chunks: int
    chars: int


class NotebookWritten(BaseModel):
    version_id: int
    version: int
    chars: int


class ImportPage(BaseModel):
    # The line to start the next page at; None when the end record was reached.
    next_line: int | None
    counts: dict[str, int]
    documents: list[StoredArchiveDocument] = []
    # The newest notebook version the page wrote, for the graph to take in at the end.
    notebook: NotebookWritten | None = None
