"""The CLI's way to the HTTP API: AGENT_MEMORY_URL and AGENT_MEMORY_KEY; an API error
becomes one line on stderr with its code, and exit status 2 (refused) or 1 (failed)."""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8420"


def api_url() -> str:
    return os.environ.get("AGENT_MEMORY_URL", DEFAULT_URL).rstrip("/")


def call(method: str, path: str, **kwargs: Any) -> Any:
    key = os.environ.get("AGENT_MEMORY_KEY")
    if not key:
        raise SystemExit("error: AGENT_MEMORY_KEY is not set: `worker.py --dev` prints a dev key; operators create keys with `agent-memory keys create`")
    try:
        response = httpx.request(
            method, f"{api_url()}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=300, **kwargs
        )
    except httpx.TransportError as err:
        raise SystemExit(f"error: cannot reach the API at {api_url()} (set AGENT_MEMORY_URL): {err}") from None
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            where = f" ({error['field']})" if error.get("field") else ""
            print(f"error: {error['code']}{where}: {error['message']}", file=sys.stderr)
        except (ValueError, KeyError):
            print(f"error: the API answered {response.status_code}: {response.text[:200]}", file=sys.stderr)
        raise SystemExit(2 if response.status_code in (401, 403, 404, 413, 422) else 1)
    return response.json()
