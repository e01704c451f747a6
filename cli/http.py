"""The CLI's way to the HTTP API: AGENT_MEMORY_URL and AGENT_MEMORY_KEY; an API error
becomes one line on stderr with its code, and exit status 2 (refused) or 1 (failed).
The standard library's HTTP client, so a command starts without loading an HTTP stack."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8420"


def api_url() -> str:
    return os.environ.get("AGENT_MEMORY_URL", DEFAULT_URL).rstrip("/")


def call(method: str, path: str, *, json_body: Any = None, params: list[tuple[str, str]] | None = None) -> Any:
    key = os.environ.get("AGENT_MEMORY_KEY")
    if not key:
        raise SystemExit(
            "error: AGENT_MEMORY_KEY is not set: `worker.py --dev` prints a dev key; "
            "operators create keys with `agent-memory keys create`"
        )
    url = f"{api_url()}{urllib.parse.quote(path)}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    data = None if json_body is None else json.dumps(json_body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {key}"})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        _report(err.code, err.read())
    except (urllib.error.URLError, OSError) as err:
        raise SystemExit(f"error: cannot reach the API at {api_url()} (set AGENT_MEMORY_URL): {err}") from None


def _report(status: int, body: bytes) -> None:
    try:
        error = json.loads(body)["error"]
        where = f" ({error['field']})" if error.get("field") else ""
        print(f"error: {error['code']}{where}: {error['message']}", file=sys.stderr)
    except (ValueError, KeyError, TypeError):
        print(f"error: the API answered {status}: {body[:200]!r}", file=sys.stderr)
    raise SystemExit(2 if status in (401, 403, 404, 413, 422) else 1)
