"""The operator's commands that are not API calls: keys (on the database), and serving the
API and the MCP server."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from cli.output import Json, show, table

keys_app = typer.Typer(
    help="API keys (operators; needs DATABASE_URL).", no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False
)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command()(serve)
    app.command()(mcp)


@keys_app.command("create")
def keys_create(
    tenant: str,
    scope: Annotated[str, typer.Option(help="read, write or operator")],
    name: Annotated[str, typer.Option(help="what the key is for")],
    operator: Annotated[str, typer.Option(help="who creates it (recorded)")],
    as_json: Json = False,
) -> None:
    """Create a key for TENANT. The key is printed once and stored only as a hash."""
    from cli.keys import create

    issued = create(tenant, scope, name, operator)
    show(issued, as_json, lambda k: print(f"{k['key']['key_id']} ({k['key']['scope']}) for tenant {tenant}:\n{k['secret']}\nStore it now: it is not shown again."))


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    from cli.keys import revoke

    revoke(key_id)
    print(f"key {key_id} revoked")


@keys_app.command("list")
def keys_list(tenant: Optional[str] = None, as_json: Json = False) -> None:
    from cli.keys import listing

    rows = listing(tenant)
    show(rows, as_json, lambda ks: table(
        "API keys", ["key id", "tenant", "scope", "name", "created", "revoked"],
        [[k["key_id"], k["tenant_id"], k["scope"], k["name"], k["created_at"][:16], (k["revoked_at"] or "")[:16]] for k in ks],
    ))



def serve(host: str = "127.0.0.1", port: int = 8420) -> None:
    """Serve the HTTP API (Temporal by its environment configuration; stores by DATABASE_URL, GRAPH_URL, REDIS_URL)."""
    import asyncio

    from cli.serving import serve_api

    asyncio.run(serve_api(host, port))



def mcp(
    agent: Annotated[str, typer.Option(help="the agent whose memory the MCP tools reach")],
    http_port: Annotated[Optional[int], typer.Option(help="serve Streamable HTTP on this port instead of stdio")] = None,
) -> None:
    """Serve the MCP tools over the HTTP API (AGENT_MEMORY_URL, AGENT_MEMORY_KEY): stdio by default."""
    import os

    from cli.http import api_url
    from mcp_server.server import MemoryApi, build_server

    key = os.environ.get("AGENT_MEMORY_KEY")
    if not key:
        raise SystemExit("error: AGENT_MEMORY_KEY is not set")
    server = build_server(MemoryApi(api_url(), key, agent))
    if http_port:
        server.run("streamable-http", port=http_port)
    else:
        server.run("stdio")


