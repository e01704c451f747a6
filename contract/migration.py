"""Typed inputs, state and progress of the embedding-model migration workflow."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Phase = Literal["planning", "indexing", "recall", "graph", "verifying", "switching", "done", "cancelled"]


def migration_id(tenant_id: str) -> str:
    # One id per tenant: the server itself refuses a second migration while one runs.
    return f"migration/{tenant_id}"


class MigrationRequest(BaseModel):
    tenant_id: str
    to_model: str = Field(min_length=3, max_length=200)
    requested_by: str = Field(default="operator", min_length=1, max_length=200)
    batch_size: int = Field(default=200, ge=1, le=2_000)
    # Batches per run before continuing as new, so the history stays small.
    batches_per_run: int = Field(default=100, ge=1, le=1_000)


class MigrationState(BaseModel):
    """What carries over continue-as-new: where the migration is, never the data."""

    phase: Phase = "planning"
    from_model: str = ""
    total_rows: int = 0
    rows_done: int = 0
    after_id: int = 0
    graph_after: str = ""
    graph_done: int = 0
    batches: int = 0
    started_at_epoch: float = 0.0


class MigrationStart(BaseModel):
    request: MigrationRequest
    state: MigrationState = Field(default_factory=MigrationState)


class MigrationProgress(BaseModel):
    tenant_id: str
    from_model: str
    to_model: str
    phase: Phase
    rows_done: int
    total_rows: int
    graph_done: int
    rows_per_second: float
    eta_seconds: float | None
    paused: bool
    pause_reason: str = ""


class MigrationResult(BaseModel):
    tenant_id: str
    from_model: str
    to_model: str
    outcome: Literal["switched", "cancelled"]
    rows: int
    graph_items: int
    detail: str
