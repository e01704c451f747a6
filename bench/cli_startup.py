"""How fast the agent-memory command starts and answers, each the median of 10 runs, beside a
bare `python -c pass` measured in the same run:

- `agent-memory --help` (target: under 0.5 s);
- `chat` against a stand-in API that answers at once: the command's own cost;
- with the dev stack running (`worker.py --dev`, AGENT_MEMORY_KEY exported): a `chat` round
  trip through its API, and the same through Temporal directly (no key; the CLI's fallback).

    uv run python bench/cli_startup.py
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RUNS = 10
TURN = {
    "reply": "Hello.", "workflow_id": "conversation/dev/support/t1", "turn": 1, "manifest": [],
    "usage": {"input_tokens": 1, "output_tokens": 1}, "provider": "offline", "model": "offline",
    "user_message_id": 1, "assistant_message_id": 2,
}


class _InstantApi(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(TURN).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def median_seconds(command: list[str], env: dict[str, str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    script = shutil.which("agent-memory") or str(Path(sys.executable).parent / "agent-memory")
    api = ThreadingHTTPServer(("127.0.0.1", 0), _InstantApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    instant = {**os.environ, "AGENT_MEMORY_URL": f"http://127.0.0.1:{api.server_port}", "AGENT_MEMORY_KEY": "amk_bench_x"}
    chat = [script, "chat", "support", "bench-cli", "Hello"]
    rows = [
        ("python -c pass (baseline)", median_seconds([sys.executable, "-c", "pass"], instant), ""),
        ("agent-memory --help", median_seconds([script, "--help"], instant), "< 0.5 s"),
        ("chat, instant stand-in API", median_seconds(chat, instant), ""),
    ]
    api.shutdown()
    if os.environ.get("AGENT_MEMORY_KEY"):
        dev = dict(os.environ)
        rows.append(("chat, dev stack via API", median_seconds(chat, dev), ""))
        direct = {k: v for k, v in dev.items() if k != "AGENT_MEMORY_KEY"} | {"AGENT_MEMORY_TENANT": "dev"}
        rows.append(("chat, dev stack via Temporal", median_seconds(chat, direct), ""))
    else:
        print("(AGENT_MEMORY_KEY not set: no dev stack round trips; start `worker.py --dev` and export its key)\n")
    print(f"{'command':<30} {'median of ' + str(RUNS):>14} {'x baseline':>11}  target")
    for name, seconds, target in rows:
        print(f"{name:<30} {seconds * 1000:>11.0f} ms {seconds / rows[0][1]:>10.1f}x  {target}")
    verdict = "meets" if rows[1][1] < 0.5 else "misses"
    print(f"\n--help {verdict} the 0.5 s target")


if __name__ == "__main__":
    main()
