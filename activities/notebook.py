"""Notebook activities: read the authoritative notebook, and the agent's deliberate edit tool."""

from __future__ import annotations

from temporalio import activity

from activities.graph_models import NotebookWriteInput, NotebookWritten
from activities.tracing import traced
from activities.turn_models import (
    NotebookEditInput,
    NotebookReadInput,
    NotebookToolResult,
)
from memory.core.switches import SwitchableLayer, SwitchBoard
from memory.core.tokens import estimate_tokens
from memory.documents.notebook import Notebook
from memory.prompt.manifest import ContextItem, Layer


class NotebookActivities:
    def __init__(self, notebook: Notebook, switches: SwitchBoard):
        self._notebook = notebook
        self._switches = switches

    @activity.defn(name="notebook_read")
    @traced("notebook", "read")
    async def read(self, request: NotebookReadInput) -> list[ContextItem]:
        if not await self._switches.layer_on(request.agent.tenant_id, SwitchableLayer.NOTEBOOK):
            return []
        version = await self._notebook.read(request.agent)
        if version is None:
            return []
        return [
            ContextItem(
                layer=Layer.NOTEBOOK,
                source_id=version.id,
                source_time=version.created_at,
                label=f"{version.path} v{version.version} by {version.author}",
                tokens=estimate_tokens(version.content),
            )
        ]

    @activity.defn(name="notebook_edit")
    @traced("notebook", "write")
    async def edit(self, request: NotebookEditInput) -> NotebookToolResult:
        version = await self._notebook.append_note(
            request.thread.agent,
            request.note,
            author=request.author,
            idempotency_key=f"{request.thread.key}/turn/{request.turn}/tool/{request.call_id}",
            thread=request.thread,
        )
        return NotebookToolResult(version_id=version.id, version=version.version)

    @activity.defn(name="notebook_write")
    @traced("notebook", "write")
    async def write(self, request: NotebookWriteInput) -> NotebookWritten:
        """An operator's edit: replaces the notebook as a new version, attributed to the operator."""
        version = await self._notebook.replace(
            request.agent,
            request.content,
            author=f"operator:{request.operator}",
            reason=request.reason or "operator edit",
            idempotency_key=f"{request.agent.tenant_id}/{request.agent.agent_id}/notebook/request/{request.request_id}",
        )
        return NotebookWritten(version_id=version.id, version=version.version, created_at=version.created_at)
