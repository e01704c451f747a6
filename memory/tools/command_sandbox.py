"""The box a command-tool child runs in, built from util-linux (`unshare`, `prlimit`,
`setpriv`), which every mainstream Linux image ships.

A child gets:
- no network: a fresh network namespace holds only a loopback that is down;
- its own process and /proc view: a fresh PID namespace with /proc mounted anew, so the
  worker's /proc/<pid>/environ (database URL, API keys, payload keys) is not there to read;
- resource limits: CPU seconds, address space, file size, open files, processes;
- its own unprivileged uid when the worker runs as root (`nobody` unless configured), so it
  can write only in its scratch directory (chowned to that uid) and world-writable places
  the argument rules keep it from naming; it cannot set the clock or gain privileges.
When the worker is not root, an unprivileged user namespace gives the same network and
process isolation; the child keeps the worker's uid outside it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_TOOLS = ("unshare", "prlimit", "setpriv")


class SandboxUnavailable(RuntimeError):
    """The worker is root and no sandbox works: the command tool would run children as root."""


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: int = 10
    memory_bytes: int = 512 * 1024 * 1024
    file_bytes: int = 64 * 1024 * 1024
    processes: int = 64
    open_files: int = 256


class Sandbox:
    """mode "auto" boxes every child (or refuses to run one as root without a box);
    "off" runs children directly and is refused when the worker is root."""

    def __init__(self, mode: str = "auto", *, uid: int = 65534, gid: int = 65534, limits: SandboxLimits | None = None):
        if mode not in ("auto", "off"):
            raise ValueError(f"sandbox mode {mode!r} is not one of: auto, off")
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.limits = limits or SandboxLimits()
        # Set by verify(): whether the box works here (None until checked).
        self.working: bool | None = None

    @property
    def privileged(self) -> bool:
        return os.geteuid() == 0

    def tools(self) -> dict[str, str] | None:
        found = {name: shutil.which(name) for name in _TOOLS}
        if self.mode == "off" or not all(found.values()):
            return None
        return {name: path for name, path in found.items() if path}

    def wrap(self, executable: str, arguments: list[str]) -> list[str]:
        """The argv that runs `executable` inside the box; SandboxUnavailable if there is none
        and the worker is root."""
        tools = self.tools() if self.working is not False else None
        if tools is None:
            if self.privileged:
                raise SandboxUnavailable(self._why_unavailable())
            return [executable, *arguments]
        namespaces = ["--net", "--ipc", "--uts", "--pid", "--fork", "--kill-child", "--mount-proc"]
        limits = [
            f"--cpu={self.limits.cpu_seconds}",
            f"--as={self.limits.memory_bytes}",
            f"--fsize={self.limits.file_bytes}",
            f"--nofile={self.limits.open_files}",
            "--core=0",
        ]
        if self.privileged:
            # The process count is per real uid, so it only means something for a uid of its own.
            limits.append(f"--nproc={self.limits.processes}")
            identity = [f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]
        else:
            namespaces = ["--user", "--map-root-user", *namespaces]
            identity = []
        return [
            tools["unshare"], *namespaces, "--",
            tools["prlimit"], *limits, "--",
            tools["setpriv"], *identity, "--no-new-privs", "--",
            executable, *arguments,
        ]  # fmt: skip

    def prepare(self, directory: Path) -> None:
        """Let the child's uid write in its scratch directory (and nowhere the worker owns)."""
        if self.privileged and self.tools() is not None:
            os.chown(directory, self.uid, self.gid)

    def verify(self) -> str:
        """Run `true` in the box; a description of the box, or SandboxUnavailable when the
        worker is root and the box does not work. Called once at start-up."""
        true = shutil.which("true") or "/bin/true"
        self.working = None
        argv = self.wrap(true, [])
        if argv[0] == true:
            self.working = False
            log.warning("command tool runs without a sandbox: %s", self._why_unavailable())
            return "none"
        try:
            probe = subprocess.run(argv, capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            failure = f"{type(err).__name__}: {err}"
        else:
            if probe.returncode == 0:
                self.working = True
                who = f"uid {self.uid}" if self.privileged else "the worker's uid in a user namespace"
                return f"namespaces (no network, own /proc), resource limits, {who}"
            failure = probe.stderr.decode(errors="replace").strip()[:300] or f"exit {probe.returncode}"
        self.working = False
        message = (
            f"the command sandbox does not work on this machine ({failure}); it needs unprivileged "
            "user namespaces or root for unshare(1)"
        )
        if self.privileged:
            raise SandboxUnavailable(
                f"{message}. The worker runs as root, so the command tool would run programs as root: "
                "fix the sandbox, run the worker as an unprivileged user, or disable the tool with "
                "TOOL_ALLOWED_COMMANDS= (empty)"
            )
        log.warning("command tool runs without a sandbox: %s", message)
        return "none"

    def _why_unavailable(self) -> str:
        if self.mode == "off":
            reason = "TOOL_SANDBOX=off"
        else:
            missing = [name for name in _TOOLS if shutil.which(name) is None]
            reason = f"{', '.join(missing)} not found (util-linux)"
        if self.privileged:
            return (
                f"{reason}, and the worker runs as root: refusing to run the command tool's programs as root. "
                "Install util-linux, run the worker as an unprivileged user, or disable the tool with "
                "TOOL_ALLOWED_COMMANDS= (empty)"
            )
        return reason
