"""`agent-memory forget`: erase one end user of a tenant, or a whole tenant, from every layer.

A deployment operator's command: it starts the forget workflow on Temporal directly (by the
environment's Temporal configuration, like the scripts in clients/), since no tenant's API
key may reach another tenant, nor outlive its own tenant's erasure. Tenants' own operators
erase their users through the API (POST /v1/users/{user}/forget).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Optional

import typer

from cli.output import Json, show


def forget(
    tenant: Annotated[str, typer.Option(help="the tenant to erase, or whose user to erase")],
    user: Annotated[Optional[str], typer.Option(help="erase only this end user of the tenant")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would be erased; erase nothing")] = False,
    operator: Annotated[str, typer.Option(help="who asks (kept in the audit row)")] = "cli",
    reason: Annotated[str, typer.Option(help="why (kept in the audit row)")] = "",
    request_id: Annotated[Optional[str], typer.Option(help="the same id is the same forget")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="erase a whole tenant without asking")] = False,
    as_json: Json = False,
) -> None:
    """Erase an end user (--user) or a whole tenant from every store and from Temporal."""
    from pydantic import ValidationError

    from contract.forget import ForgetRequest
    from memory.core.validation import InvalidInput
    from memory.forget.models import ForgetScope

    try:
        request = ForgetRequest(
            scope=ForgetScope(tenant_id=tenant, user_id=user),
            operator=operator,
            reason=reason,
            dry_run=dry_run,
            request_id=request_id or uuid.uuid4().hex,
        )
    except (ValidationError, InvalidInput) as err:
        raise SystemExit(f"error: {err}") from None
    if user is None and not dry_run and not yes:
        typer.confirm(f"Erase ALL memory of tenant {tenant}, its API keys included?", abort=True)
    report = asyncio.run(_run(request))

    def render(result) -> None:
        verb = "would erase" if result["dry_run"] else "erased"
        print(f"{request.scope.label}: {verb} {sum(result['counts'].values())} items ({result['forget_key']})")
        for name, count in sorted(result["counts"].items()):
            if count:
                print(f"   {name:<40} {count}")

    show(report.model_dump(mode="json"), as_json, render)


async def _run(request):
    from clients.connect import connect, failure_reason
    from clients.forget import forget as start_forget

    client = await connect()
    try:
        return await start_forget(client, request)
    except Exception as err:
        raise SystemExit(f"error: the forget did not finish: {failure_reason(err)}") from None
