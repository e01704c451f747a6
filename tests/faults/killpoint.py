"""Run the real worker (`worker.py`) with a kill point: the process kills itself with
SIGKILL right before, during (at its first heartbeat) or right after the N-th execution
of a named activity.

    KILL_AT=after:recall_write python -m tests.faults.killpoint
    KILL_AT=after:conversation_append_message#2 python -m tests.faults.killpoint
    KILL_AT=during:model_generate KEEP_ATTEMPT_TIMEOUTS=1 python -m tests.faults.killpoint
    KILL_AT=after:turn_commit/recall_write python -m tests.faults.killpoint
    KILL_AT=after:mcp/orders/slow_report python -m tests.faults.killpoint
    python -m tests.faults.killpoint              # no KILL_AT: an ordinary worker

Everything else is worker.py's own start-up (settings from the environment, service
checks, schema upgrade, the worker); the additions are:

- the kill point, which writes one line naming the point to stderr and then kills its
  own process, so nothing is flushed, acknowledged or cleaned up. `<activity>/<step>`
  names a step inside a coarse activity (a write inside turn_commit, by the activity name
  its code is registered under elsewhere): the worker dies right before or after it;
- a cap of 4 s on each activity attempt's start-to-close timeout. A server cannot tell
  a dead worker from a slow one: it retries an attempt only when that timeout passes,
  30 s to 2 min with the product's options. The cap makes these tests wait seconds for
  that instead of minutes; retry policies are untouched. KEEP_ATTEMPT_TIMEOUTS=1 leaves
  the product's timeouts as they are, for a test of how soon a dead worker is noticed;
- for the same reason, a thread's workflow tasks go to another worker after 1 s instead
  of 10 s (the sticky queue timeout) when the worker that ran it last is gone;
- the build id is named instead of computed: the SDK's default hashes the source of
  every loaded module, seconds of CPU per start.

`Workers` starts such workers for a test. Importing the worker's modules takes seconds
of CPU, so one process (`--fork-server`) imports them once and forks a worker per request.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import os
import signal
import subprocess
import sys
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

KILLED = "killed at"
ATTEMPT_TIMEOUT = timedelta(seconds=4)
# Only the turn's own kinds of work (up to two minutes per attempt); graph ingestion keeps
# its long timeout and its heartbeat.
CAPPED_UP_TO = timedelta(minutes=2)
STICKY_TIMEOUT = timedelta(seconds=1)
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class KillAt:
    when: str  # "before", "during" or "after"
    activity: str
    nth: int = 1
    step: str | None = None  # a step inside the activity

    @classmethod
    def parse(cls, spec: str) -> "KillAt":
        when, _, rest = spec.partition(":")
        name, _, nth = rest.partition("#")
        # An MCP tool's activity is named mcp/<server>/<tool>: its slashes name no step.
        name, _, step = (name, "", "") if name.startswith("mcp/") else name.partition("/")
        if when not in ("before", "during", "after") or not name or (step and when == "during"):
            raise ValueError(f"KILL_AT={spec!r}: expected before|during|after:<activity>[/<step>][#<n>]")
        return cls(when, name, int(nth or 1), step or None)

    def __str__(self) -> str:
        return f"{self.when}:{self.activity}{'/' + self.step if self.step else ''}#{self.nth}"


# The activity type running in this task: a step is killed only inside its activity.
_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("killpoint_running", default=None)


def _step_methods() -> dict[str, tuple[type, str]]:
    from activities.conversation import ConversationActivities
    from activities.recall import RecallActivities
    from activities.turns import TurnActivities

    return {
        "conversation_append_message": (ConversationActivities, "append_message"),
        # Inside the commit, the recall write takes the messages it has in hand.
        "recall_write": (RecallActivities, "write_exchange"),
        "turn_record": (TurnActivities, "record"),
    }


def kill_inside(point: "KillPoint") -> None:
    """Wrap the step's method (before the worker binds it) so the worker dies around its
    n-th call made inside the named activity."""
    at = point.at
    cls, name = _step_methods()[at.step]
    original = getattr(cls, name)

    @functools.wraps(original)
    async def step(self, request):
        hit = False
        if _running.get() == at.activity:
            point.seen += 1
            hit = point.seen == at.nth
        if hit and at.when == "before":
            point.die()
        result = await original(self, request)
        if hit:
            point.die()
        return result

    setattr(cls, name, step)


class KillPoint(Interceptor):
    def __init__(self, at: KillAt):
        self.at = at
        self.seen = 0

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Kill(next, self)

    def die(self) -> None:
        print(f"{KILLED} {self.at}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


class _Kill(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: KillPoint):
        super().__init__(next)
        self._owner = owner
        self.die_at_heartbeat = False

    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        super().init(_KillAtHeartbeat(outbound, self))

    async def execute_activity(self, input: ExecuteActivityInput):
        at = self._owner.at
        _running.set(activity.info().activity_type)
        hit = False
        if activity.info().activity_type == at.activity and at.step is None:
            self._owner.seen += 1
            hit = self._owner.seen == at.nth
        if hit and at.when == "before":
            self._owner.die()
        # The activity is under way (its first heartbeat says so) when the worker dies.
        self.die_at_heartbeat = hit and at.when == "during"
        result = await super().execute_activity(input)
        if hit and at.when == "after":
            self._owner.die()  # the write is committed; its acknowledgement never leaves
        return result


class _KillAtHeartbeat(ActivityOutboundInterceptor):
    def __init__(self, next: ActivityOutboundInterceptor, inbound: _Kill):
        super().__init__(next)
        self._inbound = inbound

    def heartbeat(self, *details) -> None:
        if self._inbound.die_at_heartbeat:
            self._inbound._owner.die()
        super().heartbeat(*details)


class CapAttemptTimeout(Interceptor):
    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _CapInbound


class _CapInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_CapOutbound(outbound))


class _CapOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput):
        timeout = input.start_to_close_timeout
        if timeout is not None and timeout <= CAPPED_UP_TO:
            input.start_to_close_timeout = min(timeout, ATTEMPT_TIMEOUT)
        return super().start_activity(input)


def run_worker() -> None:
    """worker.py's main, with the interceptors and options above."""
    import worker

    interceptors: list[Interceptor] = [] if os.environ.get("KEEP_ATTEMPT_TIMEOUTS") else [CapAttemptTimeout()]
    if spec := os.environ.get("KILL_AT"):
        point = KillPoint(KillAt.parse(spec))
        if point.at.step:
            kill_inside(point)
        interceptors.append(point)
    build_worker = worker.build_worker

    def build_with_faults(client, runtime, *, task_queue: str, **options):
        options["interceptors"] = [*options.get("interceptors", []), *interceptors]
        options.setdefault("build_id", "fault-tests")
        options.setdefault("sticky_queue_schedule_to_start_timeout", STICKY_TIMEOUT)
        return build_worker(client, runtime, task_queue=task_queue, **options)

    worker.build_worker = build_with_faults
    sys.argv = [sys.argv[0]]
    worker.main()


def fork_server(exits: Path) -> None:
    """Import the worker once, then fork a worker per line of stdin ({"env": ..., "log": ...}),
    answering with its pid; a worker's exit code (negative: the signal) goes to exits/<pid>."""
    import worker  # noqa: F401  (the slow part, done once)

    def reap(signum, frame) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            partial = exits / f"{pid}.partial"
            partial.write_text(str(os.waitstatus_to_exitcode(status)))
            partial.rename(exits / str(pid))

    signal.signal(signal.SIGCHLD, reap)
    children: list[int] = []
    print("ready", flush=True)
    try:
        serve_requests(children)
    finally:
        # Stdin closed: the tests are over (or their process died). Leave no worker behind.
        for pid in children:
            if not (exits / str(pid)).exists():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def serve_requests(children: list[int]) -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.environ.update(request["env"])
            code = 1
            try:
                run_worker()
                code = 0
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
        print(pid, flush=True)


def worker_settings(temporal_address: str, database_url: str, graph_url: str, redis_url: str, scratch: Path) -> dict[str, str]:
    """The environment of a test's worker process: the test's services, its own task queue,
    no retention schedule and no metrics port."""
    return {
        "TEMPORAL_ADDRESS": temporal_address,
        "DATABASE_URL": database_url,
        "GRAPH_URL": graph_url,
        "REDIS_URL": redis_url,
        "TOOL_SCRATCH_ROOT": str(scratch),
        "RETENTION_SCHEDULE_HOURS": "0",
        "METRICS_PORT": "0",
        "TASK_QUEUE": f"killed-{uuid.uuid4().hex[:8]}",
    }


class Worker:
    """One worker process forked by the fork server, logging to its own file."""

    def __init__(self, pid: int, log: Path, exits: Path):
        self.pid = pid
        self.log = log
        self._exit = exits / str(pid)

    @property
    def exit_code(self) -> int | None:
        return int(self._exit.read_text()) if self._exit.exists() else None

    async def exited(self, timeout: float) -> int:
        async with asyncio.timeout(timeout):
            while (code := self.exit_code) is None:
                await asyncio.sleep(0.05)
        return code

    async def killed(self, timeout: float) -> str:
        """Wait for the kill point to fire; returns the line it logged."""
        try:
            code = await self.exited(timeout)
        except TimeoutError:
            raise AssertionError(f"the kill point was not reached in {timeout} s:\n{self.tail()}") from None
        assert code == -signal.SIGKILL, self.tail()
        [line] = [line for line in self.log.read_text().splitlines() if line.startswith(KILLED)]
        return line

    async def stop(self) -> None:
        if self.exit_code is not None:
            return
        os.kill(self.pid, signal.SIGTERM)  # the worker finishes running activities, then exits
        try:
            await self.exited(30)
        except TimeoutError:
            os.kill(self.pid, signal.SIGKILL)
            await self.exited(10)

    def tail(self) -> str:
        return self.log.read_text()[-3000:]


class Workers:
    """Starts workers (each with its own settings, kill point and log) for the tests."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.exits = directory / "exits"
        self.exits.mkdir()
        self.started: list[Worker] = []
        self._server = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.killpoint", "--fork-server", str(self.exits)],
            cwd=ROOT,
            env={key: value for key, value in os.environ.items() if key != "ANTHROPIC_API_KEY"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(directory / "fork-server.log").open("ab"),
        )
        self._ready = False

    def _answer(self) -> str:
        assert self._server.stdout is not None
        line = self._server.stdout.readline().decode().strip()
        if not line:
            raise RuntimeError(f"the fork server stopped: {(self.directory / 'fork-server.log').read_text()[-3000:]}")
        return line

    async def start(self, env: dict[str, str]) -> Worker:
        assert self._server.stdin is not None
        if not self._ready:
            assert await asyncio.to_thread(self._answer) == "ready"
            self._ready = True
        log = self.directory / f"worker-{len(self.started) + 1}.log"
        self._server.stdin.write(json.dumps({"env": env, "log": str(log)}).encode() + b"\n")
        self._server.stdin.flush()
        worker = Worker(int(await asyncio.to_thread(self._answer)), log, self.exits)
        self.started.append(worker)
        return worker

    async def close(self) -> None:
        for worker in self.started:
            await worker.stop()
        assert self._server.stdin is not None
        self._server.stdin.close()
        try:
            self._server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._server.kill()
            self._server.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--fork-server"]:
        fork_server(Path(sys.argv[2]))
    else:
        run_worker()
