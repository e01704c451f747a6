"""Model and embedding calls per tenant and action, the memory layers' cost apart from the agent's.

    uv run python clients/usage.py
    uv run python clients/usage.py --tenant acme --since 2025-06-01
    uv run python clients/usage.py --json

Reads the usage ledger in the Postgres database named by DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import BaseModel  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from memory.core.config import Settings  # noqa: E402
from memory.core.db import create_engine  # noqa: E402
from memory.core.usage import UsageLedger, UsageRow, is_memory_layer  # noqa: E402
from memory.core.validation import InvalidInput, check_id  # noqa: E402
from wiring.checks import ServiceUnavailable, check_database  # noqa: E402


@asynccontextmanager
async def database_engine() -> AsyncIterator[AsyncEngine]:
    """An engine on DATABASE_URL, checked first so a missing or unreachable database is named
    as such instead of surfacing as a driver traceback. Raises ServiceUnavailable."""
    settings = Settings.from_env()
    await check_database(settings)
    assert settings.database_url is not None
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        yield engine
    finally:
        await engine.dispose()


class Totals(BaseModel):
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    @classmethod
    def of(cls, rows: list[UsageRow]) -> Totals:
        return cls(**{name: sum(getattr(row, name) for row in rows) for name in cls.model_fields})


class TenantUsage(BaseModel):
    tenant_id: str
    memory_layers: list[UsageRow]
    memory_layers_total: Totals
    agent: list[UsageRow]
    agent_total: Totals


def summarise(rows: list[UsageRow]) -> list[TenantUsage]:
    tenants: dict[str, list[UsageRow]] = {}
    for row in rows:
        tenants.setdefault(row.tenant_id, []).append(row)
    summary = []
    for tenant_id, tenant_rows in tenants.items():
        memory = [row for row in tenant_rows if is_memory_layer(row.action)]
        agent = [row for row in tenant_rows if not is_memory_layer(row.action)]
        summary.append(
            TenantUsage(
                tenant_id=tenant_id,
                memory_layers=memory,
                memory_layers_total=Totals.of(memory),
                agent=agent,
                agent_total=Totals.of(agent),
            )
        )
    return summary


_HEADER = f"  {'action':<22} {'calls':>7} {'input':>12} {'output':>12} {'cache read':>12} {'cache write':>12}  models"


def _line(label: str, totals: Totals | UsageRow, models: str = "") -> str:
    return (
        f"  {label:<22} {totals.calls:>7,} {totals.input_tokens:>12,} {totals.output_tokens:>12,} "
        f"{totals.cache_read_input_tokens:>12,} {totals.cache_creation_input_tokens:>12,}  {models}"
    ).rstrip()


def render(summary: list[TenantUsage]) -> str:
    out: list[str] = []
    for tenant in summary:
        out += [f"tenant {tenant.tenant_id}", _HEADER]
        for row in tenant.memory_layers:
            out.append(_line(row.action, row, ", ".join(row.models)))
        out.append(_line("= memory layers", tenant.memory_layers_total))
        for row in tenant.agent:
            out.append(_line(row.action, row, ", ".join(row.models)))
        out.append(_line("= agent", tenant.agent_total))
        out.append("")
    return "\n".join(out).rstrip()


def parse_since(text: str) -> datetime:
    """An ISO date or date-time; one without a zone is taken as UTC, the ledger's clock."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--since {text[:80]!r} is not an ISO date or date-time, e.g. 2025-06-01T12:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenant", help="only this tenant")
    parser.add_argument("--since", help="only calls at or after this ISO date or date-time (UTC if no zone)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    try:
        tenant_id = None if args.tenant is None else check_id("tenant", args.tenant)
        since = None if args.since is None else parse_since(args.since)
    except InvalidInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        async with database_engine() as engine:
            rows = await UsageLedger(engine).report(tenant_id, since)
    except ServiceUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    summary = summarise(rows)
    if args.json:
        print(json.dumps([tenant.model_dump(mode="json") for tenant in summary], indent=2))
    elif not summary:
        scope = f" for tenant {tenant_id}" if tenant_id else ""
        after = f" since {since.isoformat()}" if since else ""
        print(f"no usage recorded{scope}{after}")
    else:
        print(render(summary))
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(argv))


if __name__ == "__main__":
    raise SystemExit(main())
