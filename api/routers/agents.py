"""Agents a tenant defines: create, show, list, update (a new version), history and diff.
Saving runs `AgentDefinitionWorkflow` (nothing is stored unless the whole definition and its
MCP servers' tools check out); reads come from the store. Writes need an operator key."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, ValidationError
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.auth import operator_key, read_key
from api.errors import ApiError
from api.keys import ApiKey
from api.routers.threads import REQUEST_ID, services
from api.services import ApiServices
from api.workflow_errors import as_api_error
from clients.agents import save_definition
from contract.agents import AgentSaved, SaveAgentDefinition
from memory.agents.describe import diff
from memory.agents.models import (
    INSTRUCTIONS_EMPTY,
    INSTRUCTIONS_TOO_LONG,
    MCP_SERVER_UNREACHABLE,
    MCP_TOOL_INVALID,
    TOOL_NAME_CONFLICT,
    UNKNOWN_PROVIDER,
    VERSION_CONFLICT,
    AgentVersion,
)
from memory.core.refs import AgentRef

router = APIRouter(prefix="/v1/agents", tags=["agents"])

# Refusals of a definition with a code of their own; any other bad field is invalid_input.
FIELD_CODES = (UNKNOWN_PROVIDER, INSTRUCTIONS_EMPTY, INSTRUCTIONS_TOO_LONG)
SAVE_CODES = (MCP_SERVER_UNREACHABLE, MCP_TOOL_INVALID, TOOL_NAME_CONFLICT)


class DefinitionBody(BaseModel):
    # Checked by the route, so each kind of refusal gets its own code (see the README).
    definition: dict[str, Any] = Field(description="the agent's definition: instructions, model, tools, limits, reads")
    note: str = Field(default="", max_length=2_000, description="why, for the history")
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID, description="resending with the same id saves no second version"
    )


class CreateAgent(DefinitionBody):
    agent_id: str = Field(description="the agent's id, as its threads name it")


class UpdateAgent(DefinitionBody):
    based_on: int | None = Field(
        default=None, ge=1, description="refused (conflict) if the newest version is no longer this one"
    )


class AgentDiff(BaseModel):
    agent_id: str
    from_version: int
    to_version: int
    diff: list[str]


def _request(key: ApiKey, agent_id: str, body: DefinitionBody, *, create: bool, based_on: int | None) -> SaveAgentDefinition:
    try:
        return SaveAgentDefinition(
            agent=AgentRef(tenant_id=key.tenant_id, agent_id=agent_id),
            spec=body.definition,
            author=f"key:{key.key_id}",
            note=body.note,
            based_on=based_on,
            create=create,
        )
    except ValidationError as err:
        first = err.errors()[0]
        where = [str(p) for p in first["loc"]]
        field = ".".join(["definition", *where[1:]] if where[:1] == ["spec"] else where) or "definition"
        code = first["type"] if first["type"] in FIELD_CODES else "invalid_input"
        raise ApiError(code, str(first["msg"]).removeprefix("Value error, "), field=field) from None


async def _save(api: ApiServices, request: SaveAgentDefinition, request_id: str | None) -> AgentSaved:
    try:
        return await save_definition(
            api.temporal, request, request_id=request_id or uuid.uuid4().hex, task_queue=api.task_queue
        )
    except WorkflowFailureError as err:
        cause: BaseException | None = err
        while getattr(cause, "cause", None) is not None:
            cause = cause.cause
        if isinstance(cause, ApplicationError) and cause.type in SAVE_CODES:
            raise ApiError(cause.type, cause.message) from None
        if isinstance(cause, ApplicationError) and cause.type == VERSION_CONFLICT:
            raise ApiError("conflict", cause.message) from None
        raise as_api_error(err) from None
    except RPCError as err:
        raise as_api_error(err) from None


@router.post("", response_model=AgentSaved, status_code=201, summary="Define a new agent (its version 1)")
async def create_agent(body: CreateAgent, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)):
    return await _save(api, _request(key, body.agent_id, body, create=True, based_on=None), body.request_id)


@router.put("/{agent_id}", response_model=AgentSaved, summary="Change an agent: saves its next version")
async def update_agent(
    agent_id: str, body: UpdateAgent, key: ApiKey = Depends(operator_key), api: ApiServices = Depends(services)
):
    return await _save(api, _request(key, agent_id, body, create=False, based_on=body.based_on), body.request_id)


@router.get("", response_model=list[AgentVersion], summary="The tenant's agents, each at its newest version")
async def list_agents(key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    return await api.runtime.agents.agents(key.tenant_id)


async def _version(api: ApiServices, agent: AgentRef, version: int | None) -> AgentVersion:
    found = await (api.runtime.agents.get(agent, version) if version else api.runtime.agents.current(agent))
    if found is None:
        which = f"no version {version}" if version else "no definition (it runs with the runtime's default)"
        raise ApiError("not_found", f"agent {agent.agent_id} has {which}")
    return found


@router.get("/{agent_id}", response_model=AgentVersion, summary="An agent's definition: its newest version, or ?version=N")
async def show_agent(
    agent_id: str,
    version: int | None = Query(default=None, ge=1),
    key: ApiKey = Depends(read_key),
    api: ApiServices = Depends(services),
):
    return await _version(api, AgentRef(tenant_id=key.tenant_id, agent_id=agent_id), version)


@router.get("/{agent_id}/versions", response_model=list[AgentVersion], summary="Every version of an agent, oldest first")
async def agent_history(agent_id: str, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    versions = await api.runtime.agents.history(AgentRef(tenant_id=key.tenant_id, agent_id=agent_id))
    if not versions:
        raise ApiError("not_found", f"agent {agent_id} has no definition (it runs with the runtime's default)")
    return versions


@router.get("/{agent_id}/diff", response_model=AgentDiff, summary="What changed between two versions of an agent")
async def agent_diff(
    agent_id: str,
    from_version: int = Query(ge=1),
    to_version: int = Query(ge=1),
    key: ApiKey = Depends(read_key),
    api: ApiServices = Depends(services),
):
    agent = AgentRef(tenant_id=key.tenant_id, agent_id=agent_id)
    old, new = await _version(api, agent, from_version), await _version(api, agent, to_version)
    return AgentDiff(agent_id=agent_id, from_version=old.version, to_version=new.version, diff=diff(old, new))
