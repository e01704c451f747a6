"""An agent's memory as the API shows it: the notebook (read, replace, add a note, all edits
through the notebook workflow), skills, and search across recall, graph facts and episodes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.auth import read_key, write_key
from api.errors import ApiError
from api.keys import ApiKey
from api.routers.threads import REQUEST_ID, services
from api.services import ApiServices
from api.workflow_errors import run_workflow
from contract.ingestion import NotebookEdit, NotebookEditResult, notebook_edit_id
from contract.names import NOTEBOOK_EDIT_WORKFLOW
from memory.core.refs import AgentRef, ThreadRef
from memory.core.validation import check_storable
from memory.documents.notebook import MAX_NOTE_CHARS, NOTEBOOK_PATH, check_notebook_text
from memory.documents.path_store import DocumentVersion
from memory.documents.skills import Skill, check_task_type

router = APIRouter(prefix="/v1/agents/{agent_id}", tags=["memory"])


class NotebookReplace(BaseModel):
    content: str = Field(min_length=1, max_length=64_000)
    reason: str = Field(default="", max_length=500)
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


class NotebookNote(BaseModel):
    note: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


class SearchHit(BaseModel):
    layer: Literal["notebook", "recall", "graph", "episodes"]
    text: str
    source: str
    source_time: datetime | None
    score: float | None = None


class SearchResult(BaseModel):
    query: str
    hits: list[SearchHit]


def agent_of(key: ApiKey, agent_id: str) -> AgentRef:
    return AgentRef(tenant_id=key.tenant_id, agent_id=agent_id)


@router.get("/notebook", response_model=DocumentVersion, summary="The agent's notebook, newest version")
async def get_notebook(agent_id: str, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    latest = await api.runtime.notebook.read(agent_of(key, agent_id))
    if latest is None:
        raise ApiError("not_found", f"agent {agent_id} has no notebook yet")
    return latest


@router.get("/notebook/history", response_model=list[DocumentVersion], summary="Every version of the notebook")
async def notebook_history(agent_id: str, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    return await api.runtime.documents.history(agent_of(key, agent_id), NOTEBOOK_PATH)


async def _edit(api: ApiServices, key: ApiKey, agent: AgentRef, content: str, reason: str, request_id: str | None):
    check_notebook_text(content)
    check_storable("reason", reason)
    edit = NotebookEdit(
        agent=agent, content=content, operator=f"key:{key.key_id}", reason=reason, request_id=request_id or uuid.uuid4().hex
    )
    return await run_workflow(
        api,
        NOTEBOOK_EDIT_WORKFLOW,
        edit,
        id=notebook_edit_id(agent, edit.request_id),
        summary=f"Notebook edit by key {key.key_id} ({key.name}) for agent {agent.agent_id}",
        result_type=NotebookEditResult,
    )


@router.put("/notebook", response_model=NotebookEditResult, summary="Replace the notebook with a new version")
async def put_notebook(
    agent_id: str, body: NotebookReplace, key: ApiKey = Depends(write_key), api: ApiServices = Depends(services)
):
    return await _edit(api, key, agent_of(key, agent_id), body.content, body.reason, body.request_id)


@router.post("/notebook/notes", response_model=NotebookEditResult, summary="Add one note to the notebook")
async def add_note(agent_id: str, body: NotebookNote, key: ApiKey = Depends(write_key), api: ApiServices = Depends(services)):
    agent = agent_of(key, agent_id)
    note = " ".join(body.note.split())
    if not note:
        raise ApiError("invalid_input", "the note is empty or whitespace only", field="note")
    check_storable("note", note)
    current = await api.runtime.notebook.read(agent)
    base = current.content.rstrip("\n") + "\n" if current else "# Notebook\n"
    return await _edit(api, key, agent, f"{base}- {note}\n", "note", body.request_id)


@router.get("/skills", response_model=list[Skill], summary="The agent's skills, one per task type")
async def list_skills(agent_id: str, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    agent = agent_of(key, agent_id)
    skills: list[Skill] = []
    for task_type in await api.runtime.skills.task_types(agent):
        skills.extend(await api.runtime.skills.load(agent, task_type))
    return skills


@router.get("/skills/{task_type}", response_model=Skill, summary="One skill")
async def get_skill(agent_id: str, task_type: str, key: ApiKey = Depends(read_key), api: ApiServices = Depends(services)):
    loaded = await api.runtime.skills.load(agent_of(key, agent_id), check_task_type(task_type))
    if not loaded:
        raise ApiError("not_found", f"agent {agent_id} has no skill for task type {task_type}")
    return loaded[0]


async def _notebook_lines(api: ApiServices, agent: AgentRef, query: str) -> list[SearchHit]:
    """Notebook lines sharing a word with the query: the notebook is short and sovereign, so
    every matching line is a hit, ahead of anything extracted."""
    latest = await api.runtime.notebook.read(agent)
    words = {w for w in re.findall(r"\w+", query.lower()) if len(w) > 2}
    if latest is None or not words:
        return []
    return [
        SearchHit(layer="notebook", text=line.strip(), source=f"notebook v{latest.version}", source_time=latest.created_at)
        for line in latest.content.splitlines()
        if words & set(re.findall(r"\w+", line.lower()))
    ]


@router.get("/search", response_model=SearchResult, summary="Search the agent's memory")
async def search(
    agent_id: str,
    q: str = Query(min_length=1, max_length=2_000, description="what to look for"),
    layers: list[Literal["notebook", "recall", "graph", "episodes"]] = Query(default=["notebook", "recall", "graph", "episodes"]),
    key: ApiKey = Depends(read_key),
    api: ApiServices = Depends(services),
) -> SearchResult:
    agent = agent_of(key, agent_id)
    check_storable("q", q)
    # A search of its own, so its embedding and graph calls are billed under a key of their own.
    probe = ThreadRef(tenant_id=agent.tenant_id, agent_id=agent.agent_id, thread_id=f"api-search-{uuid.uuid4().hex[:12]}")
    hits: list[SearchHit] = []
    if "notebook" in layers:
        hits.extend(await _notebook_lines(api, agent, q))
    if "recall" in layers:
        for hit in await api.runtime.recall.search(probe, 0, q, ledger_key=f"{probe.key}/recall_query"):
            hits.append(
                SearchHit(
                    layer="recall", text=hit.text, source=hit.provenance, source_time=hit.created_at, score=hit.score
                )
            )
    if "graph" in layers:
        found = await api.runtime.knowledge.search(probe, 0, q)
        for fact in found.facts:
            hits.append(SearchHit(layer="graph", text=fact.fact, source=f"fact:{fact.uuid}", source_time=fact.valid_at))
    if "episodes" in layers:
        for episode in await api.runtime.episodic.search(agent, q, limit=5):
            hits.append(
                SearchHit(
                    layer="episodes",
                    text=episode.summary,
                    source=f"episode:{episode.id}",
                    source_time=episode.occurred_at,
                    score=episode.score,
                )
            )
    return SearchResult(query=q, hits=hits)
