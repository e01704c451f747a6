"""Export an agent to a JSONL archive and import one into an agent, page by page.

Only counts and cursors cross Temporal: the records go to and from the archive directory,
so an archive of any size stays far under the payload and history limits, and a long run
continues as new. An import validates the whole archive before its first write."""

from __future__ import annotations

from temporalio import workflow

from contract.names import (
    ARCHIVE_EXPORT_WORKFLOW,
    ARCHIVE_IMPORT_WORKFLOW,
    PROGRESS_QUERY,
)

with workflow.unsafe.imports_passed_through():
    from activities.archive import (
        ArchiveActivities,
        ExportFinishInput,
        ExportPageInput,
        ImportPageInput,
    )
    from contract.archive import (
        ExportContinued,
        ExportProgress,
        ExportRequest,
        ImportContinued,
        ImportProgress,
        ImportRequest,
    )
    from memory.archive.models import ExportCursor
    from workflows.archive_documents import ingest_notebook, ingest_stored_document
    from workflows.options import EMBEDDING_CALL, MEMORY_IO


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for kind, n in more.items():
        counts[kind] = counts.get(kind, 0) + n


@workflow.defn(name=ARCHIVE_EXPORT_WORKFLOW)
class ArchiveExportWorkflow:
    def __init__(self) -> None:
        self._progress = ExportProgress(export_id="")

    @workflow.query(name=PROGRESS_QUERY, description="Records written so far, by kind.")
    def progress(self) -> ExportProgress:
        return self._progress

    @workflow.run
    async def run(self, request: ExportRequest) -> ExportProgress:
        continued = request.continued
        p = self._progress = continued.progress if continued else ExportProgress(export_id=request.export_id)
        cursor: ExportCursor | None = continued.cursor if continued else ExportCursor()
        base = request.model_copy(update={"continued": None})
        while cursor is not None:
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    request.model_copy(update={"continued": ExportContinued(cursor=cursor, progress=p)})
                )
            written = await workflow.execute_activity_method(
                ArchiveActivities.export_page,
                ExportPageInput(request=base, seq=p.pages, cursor=cursor),
                summary=f"archive: export page {p.pages} ({cursor.kind} after {cursor.after_id})",
                **MEMORY_IO,
            )
            p.pages += 1
            p.records += sum(written.counts.values())
            _add(p.counts, written.counts)
            cursor = written.next
            workflow.set_current_details(f"{p.records} records written in {p.pages} pages")
        finished = await workflow.execute_activity_method(
            ArchiveActivities.export_finish,
            ExportFinishInput(request=base, exported_at=workflow.now(), records=p.records),
            summary=f"archive: join {p.pages} pages into {request.export_id}.jsonl",
            **MEMORY_IO,
        )
        p.bytes, p.sha256, p.done = finished.bytes, finished.sha256, True
        workflow.set_current_details(f"done: {p.records} records, {p.bytes} bytes")
        return p


@workflow.defn(name=ARCHIVE_IMPORT_WORKFLOW)
class ArchiveImportWorkflow:
    def __init__(self) -> None:
        self._progress = ImportProgress()

    @workflow.query(name=PROGRESS_QUERY, description="Records and documents imported so far.")
    def progress(self) -> ImportProgress:
        return self._progress

    @workflow.run
    async def run(self, request: ImportRequest) -> ImportProgress:
        continued = request.continued
        base = request.model_copy(update={"continued": None})
        if continued:
            plan, next_line, p = continued.plan, continued.next_line, continued.progress
            self._progress = p
        else:
            p = self._progress
            plan = await workflow.execute_activity_method(
                ArchiveActivities.import_validate,
                base,
                summary=f"archive: validate every record of upload {request.upload_id}",
                **MEMORY_IO,
            )
            p.records_total, p.documents_total = plan.records, plan.counts.get("document", 0)
            p.source = f"{plan.source.tenant_id}/{plan.source.agent_id}"
            p.source_embedding_model = plan.embedding_model
            p.phase, next_line = "importing", 2
        target = request.target
        notebook = continued.notebook if continued else None
        while next_line is not None:
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(
                    request.model_copy(
                        update={
                            "continued": ImportContinued(plan=plan, next_line=next_line, progress=p, notebook=notebook)
                        }
                    )
                )
            page = await workflow.execute_activity_method(
                ArchiveActivities.import_page,
                ImportPageInput(request=base, plan=plan, first_line=next_line),
                summary=f"archive: import records from line {next_line} into {target.tenant_id}/{target.agent_id}",
                **EMBEDDING_CALL,
            )
            p.records_done += sum(page.counts.values())
            _add(p.counts, page.counts)
            self._show()
            for doc in page.documents:
                p.phase = "documents"
                await ingest_stored_document(target.tenant_id, doc, p)
                p.documents_done += 1
                p.phase = "importing"
                self._show()
            next_line = page.next_line
            notebook = page.notebook or notebook
        if notebook is not None:
            p.phase = "notebook"
            self._show()
            await ingest_notebook(target, notebook, p)
        p.phase, p.done = "done", True
        self._show()
        return p

    def _show(self) -> None:
        p = self._progress
        workflow.set_current_details(
            f"{p.phase}: {p.records_done}/{p.records_total} records, {p.documents_done}/{p.documents_total} documents"
        )
