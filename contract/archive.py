"""Typed inputs and outputs of the archive workflows: export an agent to a JSONL archive in the
archive directory, import an uploaded archive into an agent. Progress is the `progress` query."""

from __future__ import annotations

from pydantic import BaseModel, Field

from memory.archive.models import ArchivePlan, ExportCursor, NotebookWritten
from memory.core.refs import AgentRef

ARCHIVE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"


def export_workflow_id(tenant_id: str, export_id: str) -> str:
    return f"archive-export/{tenant_id}/{export_id}"


def import_workflow_id(target: AgentRef, upload_id: str) -> str:
    return f"archive-import/{target.tenant_id}/{target.agent_id}/{upload_id}"


class ExportProgress(BaseModel):
    export_id: str
    records: int = 0
    counts: dict[str, int] = {}
    pages: int = 0
    bytes: int = 0
    sha256: str = ""
    done: bool = False


class ExportContinued(BaseModel):
    """Where a long export picks up after continue-as-new."""

    cursor: ExportCursor
    progress: ExportProgress


class ExportRequest(BaseModel):
    agent: AgentRef
    export_id: str = Field(pattern=ARCHIVE_NAME)
    # With memories: the users' conversations, recall items and episodes too.
    memories: bool = False
    # Only this user's memories (the agent's shared knowledge always goes with them).
    user_id: str | None = None
    requested_by: str = Field(min_length=1, max_length=200)
    continued: ExportContinued | None = None


class ImportProgress(BaseModel):
    phase: str = "validating"  # validating, importing, documents, notebook, done
    records_total: int = 0
    records_done: int = 0
    counts: dict[str, int] = {}
    documents_total: int = 0
    documents_done: int = 0
    chunks_in_recall: int = 0
    episodes_ingested: int = 0
    episodes_failed: int = 0
    source: str = ""
    source_embedding_model: str = ""
    done: bool = False


class ImportContinued(BaseModel):
    plan: ArchivePlan
    next_line: int
    progress: ImportProgress
    notebook: NotebookWritten | None = None


class ImportRequest(BaseModel):
    target: AgentRef
    upload_id: str = Field(pattern=ARCHIVE_NAME)
    requested_by: str = Field(min_length=1, max_length=200)
    continued: ImportContinued | None = None
