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
from collections.abc import Iterator
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8420"


def api_url() -> str:
    return os.environ.get("AGENT_MEMORY_URL", DEFAULT_URL).rstrip("/")


class ApiUnreachable(Exception):
    """Nothing answered at the API's address: a command that can talk to Temporal does."""


def call(
    method: str,
    path: str,
    *,
    json_body: Any = None,
    params: list[tuple[str, str]] | None = None,
    unreachable_ok: bool = False,
) -> Any:
    with _open(method, path, json_body, params, unreachable_ok) as response:
        return json.loads(response.read())


def stream(path: str, json_body: Any, *, unreachable_ok: bool = False) -> Iterator[tuple[str, Any]]:
    """POST and read the answer as server-sent events: (event name, its JSON data), as they come.
    The request is sent at once, so an unreachable API is known before the first event."""
    response = _open("POST", path, json_body, [("stream", "true")], unreachable_ok, accept="text/event-stream")
    return _events(response)


def _events(response) -> Iterator[tuple[str, Any]]:
    with response:
        name, data = "message", []
        for raw in response:
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                yield name, json.loads("\n".join(data))
                name, data = "message", []


def _open(method, path, json_body, params, unreachable_ok, accept="application/json"):
    key = os.environ.get("AGENT_MEMORY_KEY")
    if not key:
        raise SystemExit(
            "error: AGENT_MEMORY_KEY is not set: `worker.py --dev` prints a dev key; "
            "operators create keys with `agent-memory keys create`"
        )
    url = f"{api_url()}{urllib.parse.quote(path)}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    data = None if json_body is None else json.dumps(json_body).encode()
    headers = {"Authorization": f"Bearer {key}", "Accept": accept}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        return urllib.request.urlopen(request, timeout=300)
    except urllib.error.HTTPError as err:
        _report(err.code, err.read())
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        if unreachable_ok:
            raise ApiUnreachable(f"the API at {api_url()} is unreachable ({reason})") from None
        raise SystemExit(f"error: cannot reach the API at {api_url()} (set AGENT_MEMORY_URL): {reason}") from None


def _report(status: int, body: bytes) -> None:
    try:
        error = json.loads(body)["error"]
        where = f" ({error['field']})" if error.get("field") else ""
        print(f"error: {error['code']}{where}: {error['message']}", file=sys.stderr)
    except (ValueError, KeyError, TypeError):
        print(f"error: the API answered {status}: {body[:200]!r}", file=sys.stderr)
    raise SystemExit(2 if status in (401, 403, 404, 413, 422) else 1)
