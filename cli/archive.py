"""agent-memory export / import: an agent's memory out to a JSONL archive and back in, over the
HTTP API, with progress on stderr. The archive format is described in docs/archive-format.md."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Annotated, Optional

import typer

from cli.output import Json, show

# One request body per part: well under the API's default request limit.
PART_BYTES = 1024 * 1024
POLL_SECONDS = 0.5


def register(app: typer.Typer) -> None:
    app.command("export")(export_agent)
    app.command("import")(import_archive)


def export_agent(
    agent: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write the archive (.jsonl)")],
    memories: Annotated[bool, typer.Option(help="also the users' conversations, recall items and episodes")] = False,
    user: Annotated[Optional[str], typer.Option(help="only this user's memories (implies --memories)")] = None,
    as_json: Json = False,
) -> None:
    """Export AGENT (definition, notebook and skills with every version, documents; with
    --memories its users' memories too) to a JSONL archive."""
    from cli.http import call

    started = call("POST", f"/v1/agents/{agent}/exports", json_body={"memories": memories, "user_id": user})
    job = _follow(f"/v1/exports/{started['id']}", lambda p: f"{p.get('records', 0)} records in {p.get('pages', 0)} pages")
    _transfer("GET", f"/v1/exports/{started['id']}/archive", out=output)
    show(job, as_json, lambda j: print(
        f"exported {j['progress']['records']} records ({_kinds(j['progress']['counts'])}) to {output}, "
        f"{j['progress']['bytes']:,} bytes, sha256 {j['progress']['sha256'][:16]}"
    ))


def import_archive(
    archive: Path,
    agent: Annotated[str, typer.Option(help="the agent of this key's tenant to import into")],
    as_json: Json = False,
) -> None:
    """Import ARCHIVE into AGENT. The whole archive is checked first: a malformed one, or one of
    a newer format version, is refused and nothing is written. Importing twice stores once."""
    from cli.http import call

    if not archive.is_file():
        raise SystemExit(f"error: {archive} is not a file")
    upload = call("POST", "/v1/archive-uploads")["id"]
    size, sent = archive.stat().st_size, 0
    with archive.open("rb") as f:
        for seq, part in enumerate(iter(lambda: f.read(PART_BYTES), b"")):
            _transfer("PUT", f"/v1/archive-uploads/{upload}/parts/{seq}", data=part)
            sent += len(part)
            _progress(f"uploaded {sent:,} of {size:,} bytes")
    call("POST", f"/v1/agents/{agent}/imports", json_body={"upload_id": upload})
    job = _follow(
        f"/v1/agents/{agent}/imports/{upload}",
        lambda p: f"{p.get('phase')}: {p.get('records_done', 0)}/{p.get('records_total', 0)} records, "
        f"{p.get('documents_done', 0)}/{p.get('documents_total', 0)} documents",
    )
    show(job, as_json, lambda j: print(
        f"imported {j['progress']['records_done']} records ({_kinds(j['progress']['counts'])}) from "
        f"{j['progress']['source']} into {agent}; {j['progress']['documents_done']} documents re-ingested, "
        f"{j['progress']['chunks_in_recall']} chunks re-embedded"
    ))


def _follow(path: str, line) -> dict:
    from cli.http import call

    while True:
        job = call("GET", path)
        if job["status"] == "running":
            _progress(line(job["progress"]))
            time.sleep(POLL_SECONDS)
            continue
        print(file=sys.stderr)
        if job["status"] != "completed":
            print(f"error: {job['status']}: {job.get('error') or 'the workflow did not complete'}", file=sys.stderr)
            raise SystemExit(2)
        return job


def _progress(text: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)


def _kinds(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"


def _transfer(method: str, path: str, *, data: bytes | None = None, out: Path | None = None) -> None:
    """Raw bytes to or from the API (an archive part up, the archive down)."""
    from cli.http import _report, api_url

    key = os.environ.get("AGENT_MEMORY_KEY")
    if not key:
        raise SystemExit("error: AGENT_MEMORY_KEY is not set")
    request = urllib.request.Request(
        f"{api_url()}{urllib.parse.quote(path)}", data=data, method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            if out is None:
                json.loads(response.read())
                return
            tmp = out.with_name(out.name + ".partial")
            with tmp.open("wb") as f:
                while block := response.read(1 << 20):
                    f.write(block)
            tmp.replace(out)
    except urllib.error.HTTPError as err:
        _report(err.code, err.read())
    except (urllib.error.URLError, OSError) as err:
        raise SystemExit(f"error: cannot reach the API at {api_url()}: {err}") from None
