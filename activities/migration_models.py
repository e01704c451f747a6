"""Typed inputs and outputs of the migration activities."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlanInput(BaseModel):
    tenant_id: str
    to_model: str
    rollback: bool = False


class NextBatchInput(BaseModel):
    tenant_id: str
    after_id: int = Field(ge=0)
    size: int = Field(ge=1)
    # A rollback's batches: only items with no vector of this model.
    lacking: str = ""


class EmbedBatchInput(BaseModel):
    tenant_id: str
    to_model: str
    first_id: int = Field(ge=0)
    last_id: int = Field(ge=0)


class GraphBatchInput(BaseModel):
    tenant_id: str
    to_model: str
    after: str = ""
    limit: int = Field(default=100, ge=1)


class GraphBatchResult(BaseModel):
    items: int
    last_key: str | None


class SwitchInput(BaseModel):
    tenant_id: str
    from_model: str
    to_model: str


class FenceChangeInput(BaseModel):
    tenant_id: str
    model: str
