"""The learning clients refuse bad input with a clear message before anything is sent."""

from __future__ import annotations

import pytest

from clients import codify, correct, retention


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tenant", "acme", "--agent", "support", "--thread", "t1", "--operator", "alice",
          "--tried", "   ", "--instead", "ls -a"], "tried: a correction needs what was tried"),
        (["--tenant", "Acme!", "--agent", "support", "--thread", "t1", "--operator", "alice",
          "--tried", "ls -z", "--instead", "ls -a"], "tenant id"),
        (["--tenant", "acme", "--agent", "support", "--thread", "t1", "--operator", "al ice",
          "--tried", "ls -z", "--instead", "ls -a"], "operator id"),
    ],
)
async def test_correct_refuses_bad_input(argv, message, capsys):
    assert await correct.main(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "target, message",
    [("skill:", "use skill:<task-type> or notebook"), ("graph", "use skill:<task-type> or notebook"),
     ("skill:Bad_Type", "task type")],
)
async def test_codify_refuses_a_bad_target(target, message, capsys):
    argv = ["promote", "--tenant", "acme", "--agent", "support", "--thread", "t1",
            "--command", "ls -z", "--to", target, "--operator", "alice"]
    code = await codify.main(argv)
    err = capsys.readouterr().err
    assert code == 2 and message in err


async def test_retention_refuses_a_zero_horizon(capsys):
    assert await retention.main(["run", "--recall-days", "0"]) == 2
    assert "recall_retention_days" in capsys.readouterr().err
