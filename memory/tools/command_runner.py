"""The agent's example work tool: one allow-listed command, in a scratch directory per thread.

No shell is involved, so pipes, globs and redirections are plain arguments; arguments may
not name absolute paths or climb out with '..', so a command stays in its scratch
directory (within what the allowed programs themselves can reach by relative paths).
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import time
from pathlib import Path

from pydantic import BaseModel

from memory.core.config import Settings
from memory.core.validation import InvalidInput, check_id

MAX_COMMAND_CHARS = 1_000
# Reading stops keeping bytes past this multiple of the character limit (UTF-8 needs at
# most four bytes a character); the rest is drained, so the program never blocks on a pipe.
_BYTES_PER_CHAR = 4
# An option with its value attached, "-o/etc/x" or "--output=/etc/x", names a path too.
_ABSOLUTE = re.compile(r"^(-{1,2}[A-Za-z0-9_-]*=?)?/|=/")


class CommandRejected(InvalidInput):
    """A command that breaks a rule of the policy; running it again will not help."""


class CommandPolicy(BaseModel, frozen=True):
    allowed: frozenset[str]
    scratch_root: Path
    timeout_seconds: float
    max_output_chars: int = 4_000

    @classmethod
    def from_settings(cls, settings: Settings) -> "CommandPolicy":
        return cls(
            allowed=frozenset(p.strip() for p in settings.tool_allowed_commands.split(",") if p.strip()),
            scratch_root=Path(settings.tool_scratch_root),
            timeout_seconds=settings.tool_command_timeout_seconds,
        )


class CommandOutcome(BaseModel):
    command: str
    argv: list[str]
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class CommandRunner:
    def __init__(self, policy: CommandPolicy):
        self._policy = policy

    def check(self, command: str) -> list[str]:
        """The command's argv, or CommandRejected naming the rule it breaks."""
        if not isinstance(command, str) or not command.strip():
            raise CommandRejected("the command is empty")
        if "\x00" in command:
            raise CommandRejected("the command contains a NUL byte")
        if len(command) > MAX_COMMAND_CHARS:
            raise CommandRejected(f"the command is {len(command)} characters; the limit is {MAX_COMMAND_CHARS}")
        try:
            argv = shlex.split(command)
        except ValueError as err:
            raise CommandRejected(f"the command cannot be parsed ({err}): check its quotes") from None
        if not argv:
            raise CommandRejected("the command is empty")
        program = argv[0]
        if program not in self._policy.allowed:
            allowed = ", ".join(sorted(self._policy.allowed)) or "none"
            raise CommandRejected(f"program {program[:80]!r} is not allowed; name one of: {allowed}")
        for arg in argv[1:]:
            if _ABSOLUTE.search(arg):
                raise CommandRejected(
                    f"argument {arg[:80]!r} is an absolute path; use paths relative to the scratch directory"
                )
            if ".." in arg:
                raise CommandRejected(f"argument {arg[:80]!r} contains '..'; paths may not leave the scratch directory")
        return argv

    def scratch_dir(self, scratch_key: str) -> Path:
        """The directory for one key ("tenant/agent/thread"), created if need be."""
        segments = scratch_key.split("/") if isinstance(scratch_key, str) else [scratch_key]
        for segment in segments:
            check_id("scratch", segment)
        directory = self._policy.scratch_root.resolve().joinpath(*segments)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        return directory

    async def run(self, scratch_key: str, command: str) -> CommandOutcome:
        argv = self.check(command)
        directory = self.scratch_dir(scratch_key)
        search_path = os.environ.get("PATH", os.defpath)
        executable = shutil.which(argv[0], path=search_path)
        if executable is None:
            raise CommandRejected(f"program {argv[0]!r} is allowed but not installed on this worker")
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            executable,
            *argv[1:],
            cwd=directory,
            env={"PATH": search_path, "HOME": str(directory)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # Its own process group, so a timeout also ends whatever the program started.
            start_new_session=True,
        )
        limit = self._policy.max_output_chars * _BYTES_PER_CHAR
        stdout, stderr = _Capture(limit), _Capture(limit)
        # asyncio's wait() returns only once the pipes are closed too, so a child the
        # program left in the background is also bounded by the timeout.
        waiting = [
            asyncio.create_task(stdout.drain(process.stdout)),
            asyncio.create_task(stderr.drain(process.stderr)),
            asyncio.create_task(process.wait()),
        ]
        timed_out = False
        try:
            _, pending = await asyncio.wait(waiting, timeout=self._policy.timeout_seconds)
            if pending:
                timed_out = True
                _kill_group(process.pid)
                # Something that left the group could hold the pipes for ever; keep what arrived.
                await asyncio.wait(pending, timeout=1.0)
        except BaseException:
            # Cancelled (the activity timed out or was cancelled): nothing may outlive it.
            _kill_group(process.pid)
            raise
        finally:
            for task in waiting:
                task.cancel()
        return CommandOutcome(
            command=command,
            argv=argv,
            exit_code=None if timed_out else process.returncode,
            stdout=stdout.text(self._policy.max_output_chars),
            stderr=stderr.text(self._policy.max_output_chars),
            timed_out=timed_out,
            duration_ms=(time.monotonic() - started) * 1000,
        )


class _Capture:
    def __init__(self, limit_bytes: int):
        self._limit = limit_bytes
        self._kept = bytearray()
        self._dropped = 0

    async def drain(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            room = self._limit - len(self._kept)
            self._kept += chunk[:room]
            self._dropped += max(0, len(chunk) - room)

    def text(self, max_chars: int) -> str:
        # A NUL (from `cat` of a binary file, say) is valid UTF-8 but no Postgres text column
        # holds it, and the output is logged and sent back into the conversation: it is shown
        # as the replacement character, like the bytes that do not decode.
        text = self._kept.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        if len(text) > max_chars or self._dropped:
            return f"{text[:max_chars]}\n[output truncated after {max_chars} characters]"
        return text


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already gone
