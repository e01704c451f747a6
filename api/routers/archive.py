"""Operators take an agent's memory out as a JSONL archive and put one into an agent.

An export runs as a workflow that writes the archive into the archive directory; the archive
is then downloaded whole. An import's archive is uploaded in parts (each under the request
size limit), joined, and imported by a workflow that validates every record before its first
write. Both report progress while they run."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.auth import operator_key
from api.errors import ApiError
from api.keys import ApiKey
from api.routers.threads import services
from api.services import ApiServices
from api.workflow_errors import as_api_error
from contract.archive import (
    ARCHIVE_NAME,
    ExportProgress,
    ExportRequest,
    ImportProgress,
    ImportRequest,
    export_workflow_id,
    import_workflow_id,
)
from contract.names import (
    ARCHIVE_EXPORT_WORKFLOW,
    ARCHIVE_IMPORT_WORKFLOW,
    PROGRESS_QUERY,
)
from memory.archive.files import ArchiveDirectory, check_name
from memory.core.refs import AgentRef
from memory.core.validation import check_id

router = APIRouter(prefix="/v1", tags=["archive"])

# An upload part is one request body; the whole archive may have any number of them.
MAX_UPLOAD_PARTS = 100_000


class ExportBody(BaseModel):
    memories: bool = Field(default=False, description="also the users' conversations, recall items and episodes")
    user_id: str | None = Field(default=None, description="only this user's memories")


class Started(BaseModel):
    id: str
    workflow_id: str


class Job(BaseModel):
    status: str  # running, completed, failed
    progress: dict[str, Any]
    error: str | None = None


class ImportBody(BaseModel):
    upload_id: str = Field(pattern=ARCHIVE_NAME)


def _directory(api: ApiServices) -> ArchiveDirectory:
    return ArchiveDirectory(api.runtime.settings.archive_dir)


@router.post("/agents/{agent_id}/exports", response_model=Started, status_code=202, summary="Export an agent to an archive")
async def start_export(agent_id: str, body: ExportBody, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    if body.user_id is not None:
        check_id("user", body.user_id)
    export_id = f"export-{uuid.uuid4().hex[:16]}"
    request = ExportRequest(
        agent=AgentRef(tenant_id=key.tenant_id, agent_id=agent_id), export_id=export_id, memories=body.memories or bool(body.user_id),
        user_id=body.user_id, requested_by=f"key:{key.key_id}",
    )
    workflow_id = export_workflow_id(key.tenant_id, export_id)
    try:
        await api.temporal.start_workflow(
            ARCHIVE_EXPORT_WORKFLOW, request, id=workflow_id, task_queue=api.task_queue,
            static_summary=f"Archive export: agent {agent_id} of tenant {key.tenant_id}, by key {key.key_id}",
        )
    except RPCError as err:
        raise as_api_error(err) from None
    return Started(id=export_id, workflow_id=workflow_id)


@router.get("/exports/{export_id}", response_model=Job, summary="An export's progress")
async def export_status(export_id: str, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    check_name("export id", export_id)
    return await _job(api.temporal.get_workflow_handle(export_workflow_id(key.tenant_id, export_id), result_type=ExportProgress), ExportProgress)


@router.get("/exports/{export_id}/archive", summary="Download a finished export (JSONL)")
async def export_archive(export_id: str, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    path = _directory(api).export_path(key.tenant_id, export_id)
    if not path.is_file():
        raise ApiError("not_found", f"export {export_id} has no archive (yet): see GET /v1/exports/{export_id}")
    return FileResponse(path, media_type="application/x-ndjson", filename=f"{export_id}.jsonl")


@router.post("/archive-uploads", response_model=Started, status_code=201, summary="Begin uploading an archive")
async def begin_upload(key: ApiKey = Depends(operator_key)):
    upload_id = f"upload-{uuid.uuid4().hex[:16]}"
    return Started(id=upload_id, workflow_id="")


@router.put("/archive-uploads/{upload_id}/parts/{seq}", summary="Upload one part of an archive (raw bytes)")
async def upload_part(
    upload_id: str, seq: int, request: Request, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)
) -> dict[str, int]:
    check_name("upload id", upload_id)
    if not 0 <= seq < MAX_UPLOAD_PARTS:
        raise ApiError("invalid_input", f"a part number is between 0 and {MAX_UPLOAD_PARTS - 1}", field="seq")
    data = await request.body()
    _directory(api).upload_part(key.tenant_id, upload_id, seq, data)
    return {"part": seq, "bytes": len(data)}


@router.post("/agents/{agent_id}/imports", response_model=Started, status_code=202, summary="Import an uploaded archive")
async def start_import(agent_id: str, body: ImportBody, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    target = AgentRef(tenant_id=key.tenant_id, agent_id=agent_id)
    _directory(api).join_upload(key.tenant_id, body.upload_id)
    workflow_id = import_workflow_id(target, body.upload_id)
    try:
        await api.temporal.start_workflow(
            ARCHIVE_IMPORT_WORKFLOW, ImportRequest(target=target, upload_id=body.upload_id, requested_by=f"key:{key.key_id}"),
            id=workflow_id, task_queue=api.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Archive import: upload {body.upload_id} into agent {agent_id} of tenant {key.tenant_id}",
        )
    except RPCError as err:
        raise as_api_error(err) from None
    return Started(id=body.upload_id, workflow_id=workflow_id)


@router.get("/agents/{agent_id}/imports/{upload_id}", response_model=Job, summary="An import's progress")
async def import_status(agent_id: str, upload_id: str, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    check_name("upload id", upload_id)
    target = AgentRef(tenant_id=key.tenant_id, agent_id=agent_id)
    return await _job(api.temporal.get_workflow_handle(import_workflow_id(target, upload_id), result_type=ImportProgress), ImportProgress)


async def _job(handle: WorkflowHandle, progress_type: type[BaseModel]) -> Job:
    try:
        status = (await handle.describe()).status
        if status == WorkflowExecutionStatus.COMPLETED:
            return Job(status="completed", progress=(await handle.result()).model_dump())
        if status == WorkflowExecutionStatus.RUNNING:
            progress = await handle.query(PROGRESS_QUERY, result_type=progress_type)
            return Job(status="running", progress=progress.model_dump())
        try:
            await handle.result()
        except WorkflowFailureError as err:
            return Job(status="failed", progress={}, error=as_api_error(err).message)
        return Job(status=(status.name.lower() if status else "unknown"), progress={})
    except RPCError as err:
        raise as_api_error(err) from None
