"""The example work tool: allow-listed commands in a scratch directory per thread."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from memory.core.config import Settings
from memory.tools.command_runner import CommandPolicy, CommandRejected, CommandRunner

KEY = "tenant-a/support/thread-1"


def runner_for(tmp_path: Path, *, allowed: set[str] | None = None, timeout: float = 10.0, **options) -> CommandRunner:
    policy = CommandPolicy.from_settings(Settings(tool_scratch_root=str(tmp_path / "scratch")))
    return CommandRunner(
        policy.model_copy(
            update={"timeout_seconds": timeout, **({"allowed": frozenset(allowed)} if allowed else {}), **options}
        )
    )


def processes_in(directory: Path) -> list[int]:
    """Live processes whose working directory is inside `directory`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue  # gone, a zombie, or not ours to look at
        if cwd == str(directory) or cwd.startswith(f"{directory}/"):
            found.append(int(entry.name))
    return found


async def wait_for(predicate, seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.02)


def test_the_policy_comes_from_settings(tmp_path):
    policy = CommandPolicy.from_settings(
        Settings(tool_allowed_commands="ls, echo,,cat", tool_scratch_root="x", tool_command_timeout_seconds=3)
    )
    assert policy.allowed == {"ls", "echo", "cat"}
    assert (policy.scratch_root, policy.timeout_seconds, policy.max_output_chars) == (Path("x"), 3, 4000)


async def test_a_command_runs_in_the_threads_scratch_directory(tmp_path):
    runner = runner_for(tmp_path)
    echoed = await runner.run(KEY, "echo hi")
    assert (echoed.ok, echoed.exit_code, echoed.stdout, echoed.stderr, echoed.timed_out) == (True, 0, "hi\n", "", False)
    assert echoed.argv == ["echo", "hi"]

    await runner.run(KEY, "touch notes.txt")
    listed = await runner.run(KEY, "ls")
    assert listed.ok and listed.stdout == "notes.txt\n"
    where = await runner.run(KEY, "pwd")
    assert where.stdout.strip() == str(tmp_path.resolve() / "scratch" / "tenant-a" / "support" / "thread-1")
    # Another thread has a directory of its own.
    assert (await runner.run("tenant-a/support/thread-2", "ls")).stdout == ""


async def test_a_failing_command_reports_its_error(tmp_path):
    outcome = await runner_for(tmp_path).run(KEY, "ls missing-file")
    assert not outcome.ok
    assert outcome.exit_code not in (0, None) and not outcome.timed_out
    assert "missing-file" in outcome.stderr


async def test_quoting_is_honoured_and_nothing_is_a_shell(tmp_path):
    outcome = await runner_for(tmp_path).run(KEY, "echo 'a  b' \"$HOME\" ; ls | wc")
    assert outcome.stdout == "a  b $HOME ; ls | wc\n"


@pytest.mark.parametrize(
    ("command", "rule"),
    [
        ("rm -rf x", "program 'rm' is not allowed; name one of: cat, date, echo"),
        ("/bin/ls", "program '/bin/ls' is not allowed"),
        ("cat ../x", "contains '..'"),
        ("cat notes/../../x", "contains '..'"),
        ("cat /etc/passwd", "absolute path"),
        ("sort -o/etc/x notes", "absolute path"),
        ("grep --file=/etc/passwd x", "absolute path"),
        ("", "empty"),
        ("   ", "empty"),
        ("echo 'unclosed", "cannot be parsed"),
        ("echo a\x00b", "NUL"),
        ("echo " + "a" * 1000, "limit is 1000"),
    ],
)
async def test_commands_breaking_a_rule_are_rejected_and_nothing_runs(tmp_path, command, rule):
    runner = runner_for(tmp_path)
    with pytest.raises(CommandRejected, match=rule.replace("(", r"\(")) as raised:
        await runner.run(KEY, command)
    assert isinstance(raised.value, ValueError)
    # Rejected before anything was created or started.
    assert not (tmp_path / "scratch").exists()


async def test_malformed_scratch_keys_are_refused(tmp_path):
    runner = runner_for(tmp_path)
    for key in ("../escape", "tenant-a//thread", "Tenant/A", "tenant-a/.."):
        with pytest.raises(ValueError):
            await runner.run(key, "ls")
    assert not (tmp_path / "scratch").exists()


async def test_long_output_is_cut_with_a_marker(tmp_path):
    runner = runner_for(tmp_path, max_output_chars=10)
    outcome = await runner.run(KEY, "echo " + "x" * 50)
    assert outcome.ok
    assert outcome.stdout == "x" * 10 + "\n[output truncated after 10 characters]"


async def test_binary_output_comes_back_as_text_a_store_can_hold(tmp_path):
    runner = runner_for(tmp_path)
    scratch = runner.scratch_dir(KEY)
    (scratch / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    outcome = await runner.run(KEY, "cat logo.png")
    assert outcome.ok
    assert "\x00" not in outcome.stdout
    assert outcome.stdout.endswith("\ufffd\ufffd\ufffd\rIHDR")


async def test_a_command_that_runs_too_long_is_killed(tmp_path):
    runner = runner_for(tmp_path, allowed={"sleep"}, timeout=0.3)
    outcome = await runner.run(KEY, "sleep 5")
    assert outcome.timed_out and not outcome.ok and outcome.exit_code is None
    assert outcome.duration_ms < 3000
    await wait_for(lambda: not processes_in(tmp_path / "scratch"), seconds=2)


async def test_a_timeout_also_kills_what_the_command_started(tmp_path):
    runner = runner_for(tmp_path, allowed={"sh"}, timeout=0.5)
    outcome = await runner.run(KEY, "sh -c 'sleep 5 & sleep 5 & wait'")
    assert outcome.timed_out and outcome.duration_ms < 3000
    await wait_for(lambda: not processes_in(tmp_path / "scratch"), seconds=2)


async def test_cancelling_the_run_kills_the_child(tmp_path):
    runner = runner_for(tmp_path, allowed={"sleep"}, timeout=30)
    scratch = tmp_path / "scratch"
    task = asyncio.create_task(runner.run(KEY, "sleep 30"))
    await wait_for(lambda: processes_in(scratch))
    [pid] = processes_in(scratch)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(lambda: pid not in processes_in(scratch), seconds=2)
