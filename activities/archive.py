"""Archive activities: write one page of an export, join the pages into the archive,
validate an uploaded archive whole, and import one page of it. The work is memory/archive's."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import activity

from contract.archive import ExportRequest, ImportRequest
from memory.archive.export import ArchiveSource
from memory.archive.files import ArchiveDirectory
from memory.archive.importer import ArchiveImporter
from memory.archive.models import (
    ArchivePlan,
    ExportCursor,
    ExportPageWritten,
    ExportWritten,
    ImportPage,
)
from memory.archive.records import FORMAT, FORMAT_VERSION, End, Header, line_of
from memory.archive.validate import ArchiveRejected, validate_archive
from memory.core.switches import SwitchableLayer

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.core.switches import SwitchBoard
    from memory.core.tenants import TenantRegistry
    from memory.runtime import MemoryRuntime


class ExportPageInput(BaseModel):
    request: ExportRequest
    seq: int
    cursor: ExportCursor


class ExportFinishInput(BaseModel):
    request: ExportRequest
    exported_at: datetime
    records: int


class ImportPageInput(BaseModel):
    request: ImportRequest
    plan: ArchivePlan
    first_line: int


class ArchiveActivities:
    def __init__(
        self,
        *,
        directory: ArchiveDirectory,
        source: ArchiveSource,
        importer: ArchiveImporter,
        tenants: TenantRegistry,
        switches: SwitchBoard,
    ) -> None:
        self._directory = directory
        self._source = source
        self._importer = importer
        self._tenants = tenants
        self._switches = switches

    @activity.defn(name="archive_export_page")
    async def export_page(self, page: ExportPageInput) -> ExportPageWritten:
        r = page.request
        read = await self._source.page(r.agent, page.cursor, memories=r.memories, user_id=r.user_id)
        self._directory.write_part(r.agent.tenant_id, r.export_id, page.seq, read.lines)
        return ExportPageWritten(counts=read.counts, next=read.next)

    @activity.defn(name="archive_export_finish")
    async def export_finish(self, finish: ExportFinishInput) -> ExportWritten:
        r = finish.request
        model = await self._tenants.known_embedding_model(r.agent.tenant_id) or ""
        header = Header(
            kind="header", format=FORMAT, format_version=FORMAT_VERSION, archive_id=r.export_id,
            source={"tenant_id": r.agent.tenant_id, "agent_id": r.agent.agent_id}, exported_at=finish.exported_at,
            embedding_model=model, memories=r.memories, user_id=r.user_id,
        )
        written = self._directory.join_parts(
            r.agent.tenant_id, r.export_id, line_of(header), line_of(End(kind="end", records=finish.records))
        )
        return ExportWritten(bytes=written.bytes, sha256=written.sha256, embedding_model=model)

    @activity.defn(name="archive_import_validate")
    async def import_validate(self, request: ImportRequest) -> ArchivePlan:
        """Every record is read and checked here, before the first write."""
        path = self._directory.upload_path(request.target.tenant_id, request.upload_id)
        plan = validate_archive(path)
        if plan.counts.get("document") and not await self._switches.layer_on(
            request.target.tenant_id, SwitchableLayer.DOCUMENTS
        ):
            raise ArchiveRejected(
                f"the archive holds {plan.counts['document']} documents, but the documents layer is switched off "
                "for the tenant (layer.documents.enabled); nothing was imported"
            )
        return plan

    @activity.defn(name="archive_import_page")
    async def import_page(self, page: ImportPageInput) -> ImportPage:
        path = self._directory.upload_path(page.request.target.tenant_id, page.request.upload_id)
        return await self._importer.import_page(page.request.target, path, page.plan, page.first_line)


def archive_activities(runtime: MemoryRuntime) -> list:
    rt = runtime
    importer = ArchiveImporter(
        documents=rt.documents, skills=rt.skills, agents=rt.agents, library=rt.library,
        conversation=rt.conversation, episodic=rt.episodic, recall=rt.recall,
    )
    archive = ArchiveActivities(
        directory=ArchiveDirectory(rt.settings.archive_dir), source=ArchiveSource(rt.engine), importer=importer,
        tenants=rt.tenants, switches=rt.switches,
    )
    return [archive.export_page, archive.export_finish, archive.import_validate, archive.import_page]
