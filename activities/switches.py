"""A switch or plan change as an activity: one row written, with its operator and reason, keyed
by the workflow that made it so a retried attempt writes once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import activity

from contract.switches import PLAN, SwitchChangeReceipt, SwitchChangeRequest
from memory.core.switches import format_value, typed_value
from memory.core.validation import InvalidInput

if TYPE_CHECKING:  # services are handed in; importing them is the worker's business
    from memory.core.switches import SwitchBoard
    from memory.core.tenants import TenantRegistry


class SwitchActivities:
    def __init__(self, *, switches: SwitchBoard, tenants: TenantRegistry) -> None:
        self._switches = switches
        self._tenants = tenants

    @activity.defn(name="switches_change")
    async def change(self, request: SwitchChangeRequest) -> SwitchChangeReceipt:
        key = activity.info().workflow_id
        note = {"operator": request.operator, "reason": request.reason, "change_key": key}
        if request.name == PLAN:
            if request.tenant_id is None:
                raise InvalidInput("a plan is a tenant's: name the tenant")
            plan = await self._tenants.set_plan(request.tenant_id, str(request.value), **note)
            shown = plan.value
        elif (value := typed_value(request.name, request.value)) is None:
            await self._switches.clear(request.name, tenant_id=request.tenant_id, **note)
            shown = "default"
        else:
            await self._switches.set(request.name, value, tenant_id=request.tenant_id, **note)
            shown = format_value(value)
        activity.logger.info("%s %s = %s by %s", request.tenant_id or "global", request.name, shown, request.operator)
        return SwitchChangeReceipt(
            kind="plan" if request.name == PLAN else "switch",
            tenant_id=request.tenant_id,
            name=request.name,
            value=shown,
            operator=request.operator.strip(),
            reason=request.reason.strip(),
            workflow_id=key,
        )
