"""What a tenant's operators do: usage and switches (read), document ingestion, codifying
what a session learned, and the embedding-model migration (start, status, pause, resume,
cancel). Changes are workflows; reads come from the stores."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.auth import operator_key, read_key, write_key
from api.errors import ApiError
from api.keys import ApiKey
from api.operator_changes import operator_of
from api.routers.threads import REQUEST_ID, services
from api.services import ApiServices
from api.workflow_errors import as_api_error, run_workflow
from contract.ingestion import DocumentProgress, DocumentUpload, document_ingestion_id
from contract.learning import CodifyInput, CodifyResult, codify_id
from contract.migration import (
    MigrationProgress,
    MigrationRequest,
    MigrationStart,
    migration_id,
)
from contract.names import (
    CANCEL_SIGNAL,
    CODIFY_WORKFLOW,
    DOCUMENT_INGESTION_WORKFLOW,
    EMBEDDING_MIGRATION_WORKFLOW,
    PAUSE_SIGNAL,
    PROGRESS_QUERY,
    RESUME_SIGNAL,
)
from memory.core.refs import AgentRef
from memory.core.switches import EffectiveSwitches
from memory.core.usage import UsageRow
from memory.core.validation import check_storable

router = APIRouter(prefix="/v1", tags=["operations"])

MAX_DOCUMENT_CHARS = 1_000_000


class DocumentRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=MAX_DOCUMENT_CHARS)


class DocumentAccepted(BaseModel):
    document_id: str
    workflow_id: str


class CodifyRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=200)
    command: str = Field(min_length=1, max_length=2_000)
    target: Literal["skill", "notebook"]
    project: str = "default"
    task_type: str | None = None
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


class MigrationStartRequest(BaseModel):
    to_model: str = Field(min_length=3, max_length=200)
    batch_size: int = Field(default=200, ge=1, le=2_000)


class MigrationStarted(BaseModel):
    workflow_id: str


@router.get("/usage", response_model=list[UsageRow], tags=["operations"], summary="Model and embedding calls by action")
async def usage(since: datetime | None = None, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    return await api.runtime.ledger.report(key.tenant_id, since)


@router.get("/switches", response_model=EffectiveSwitches, summary="The switches in force for the tenant")
async def switches(key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    return await api.runtime.switches.effective(key.tenant_id)


@router.post("/documents", response_model=DocumentAccepted, status_code=202, summary="Ingest a text document")
async def post_document(body: DocumentRequest, key: ApiKey = Depends(write_key), api: ApiServices = Depends(services)):
    check_storable("text", body.text)
    check_storable("name", body.name)
    sha = hashlib.sha256(body.text.encode()).hexdigest()
    upload = DocumentUpload(tenant_id=key.tenant_id, name=body.name, text=body.text, sha256=sha)
    workflow_id = document_ingestion_id(key.tenant_id, sha)
    try:
        await api.temporal.start_workflow(
            DOCUMENT_INGESTION_WORKFLOW,
            upload,
            id=workflow_id,
            task_queue=api.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"Document ingestion: {body.name} for tenant {key.tenant_id}",
        )
    except RPCError as err:
        raise as_api_error(err) from None
    return DocumentAccepted(document_id=sha[:16], workflow_id=workflow_id)


@router.get("/documents/{document_id}", response_model=DocumentProgress, summary="A document's ingestion progress")
async def document_progress(document_id: str, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    if len(document_id) != 16 or any(c not in "0123456789abcdef" for c in document_id):
        raise ApiError("invalid_input", "a document id is the 16 hex digits returned on upload", field="document_id")
    handle = api.temporal.get_workflow_handle(f"document/{key.tenant_id}/{document_id}")
    try:
        return await handle.query(PROGRESS_QUERY, result_type=DocumentProgress)
    except RPCError as err:
        raise as_api_error(err) from None


@router.post("/agents/{agent_id}/codify", response_model=CodifyResult, summary="Make a learned substitution permanent")
async def codify(agent_id: str, body: CodifyRequest, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    request = CodifyInput(
        agent=AgentRef(tenant_id=key.tenant_id, agent_id=agent_id),
        # Codify's operator is a plain id (the skill's author becomes `agent:codify:<operator>`).
        operator=operator_of(key),
        request_id=body.request_id or uuid.uuid4().hex,
        **body.model_dump(exclude={"request_id"}),
    )
    return await run_workflow(api, CODIFY_WORKFLOW, request, id=codify_id(request), result_type=CodifyResult)


@router.post("/migrations", response_model=MigrationStarted, status_code=202, summary="Start an embedding-model migration")
async def start_migration(
    body: MigrationStartRequest, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)
):
    request = MigrationRequest(
        tenant_id=key.tenant_id, to_model=body.to_model, requested_by=f"key:{key.key_id}", batch_size=body.batch_size
    )
    try:
        await api.temporal.start_workflow(
            EMBEDDING_MIGRATION_WORKFLOW,
            MigrationStart(request=request),
            id=migration_id(key.tenant_id),
            task_queue=api.task_queue,
            static_summary=f"Embedding migration: tenant {key.tenant_id} to {body.to_model}, by key {key.key_id}",
        )
    except WorkflowAlreadyStartedError:
        raise ApiError("conflict", f"tenant {key.tenant_id} already has a migration running") from None
    except RPCError as err:
        raise as_api_error(err) from None
    return MigrationStarted(workflow_id=migration_id(key.tenant_id))


@router.get("/migrations/current", response_model=MigrationProgress, summary="The running migration's progress")
async def migration_status(key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    try:
        return await api.temporal.get_workflow_handle(migration_id(key.tenant_id)).query(
            PROGRESS_QUERY, result_type=MigrationProgress
        )
    except RPCError as err:
        raise as_api_error(err) from None


@router.post("/migrations/current/{action}", status_code=202, summary="Pause, resume or cancel the running migration")
async def steer_migration(
    action: Literal["pause", "resume", "cancel"], key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)
) -> dict[str, str]:
    signal = {"pause": PAUSE_SIGNAL, "resume": RESUME_SIGNAL, "cancel": CANCEL_SIGNAL}[action]
    try:
        await api.temporal.get_workflow_handle(migration_id(key.tenant_id)).signal(signal)
    except RPCError as err:
        raise as_api_error(err) from None
    return {"sent": action}
