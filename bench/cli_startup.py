"""How fast the agent-memory command starts: `--help`, and a `chat` round trip against an
API that answers at once (so the time is the command's own, not the agent's), each the
median of 10 runs, beside a bare `python -c pass` measured in the same run.

    uv run python bench/cli_startup.py

Target: `agent-memory --help` under 0.5 s on the development machine.
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
    env = {**os.environ, "AGENT_MEMORY_URL": f"http://127.0.0.1:{api.server_port}", "AGENT_MEMORY_KEY": "amk_bench_x"}
    rows = [
        ("python -c pass (baseline)", median_seconds([sys.executable, "-c", "pass"], env)),
        ("agent-memory --help", median_seconds([script, "--help"], env)),
        ("agent-memory chat (round trip)", median_seconds([script, "chat", "support", "t1", "Hello"], env)),
    ]
    api.shutdown()
    print(f"{'command':<34} {'median of ' + str(RUNS):>14} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:<34} {seconds * 1000:>11.0f} ms {seconds / rows[0][1]:>10.1f}x")
    verdict = "meets" if rows[1][1] < 0.5 else "misses"
    print(f"\n--help {verdict} the 0.5 s target")


if __name__ == "__main__":
    main()
