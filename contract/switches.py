"""What a client sends to change a run-time switch or a tenant's plan, and what it gets back.

A change runs as SwitchChangeWorkflow, so it is acknowledged, retried and visible in
Temporal like every other write; the workflow id is the change's key, so a resent request
changes nothing twice."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# The name under which a plan change travels; no switch is called this.
PLAN = "plan"


def switch_change_id(tenant_id: str | None, request_id: str) -> str:
    return f"switch-change/{tenant_id or 'global'}/{request_id}"


class SwitchChangeRequest(BaseModel):
    # None: the global value, for every tenant (switches only, never a plan).
    tenant_id: str | None
    # A switch name, or PLAN.
    name: str = Field(min_length=1, max_length=128)
    # For a switch: its value, or None to clear the level; for a plan: the plan's name.
    value: bool | int | str | None
    operator: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2_000)
    request_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


class SwitchChangeReceipt(BaseModel):
    kind: Literal["switch", "plan"]
    tenant_id: str | None
    name: str
    # As people write it: "on", "off", "200", "default" (cleared), "trial".
    value: str
    operator: str
    reason: str
    workflow_id: str
