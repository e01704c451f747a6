"""clients/chat.py: what a user sees when the message cannot be sent."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clients import chat


async def test_standard_input_that_is_not_utf8_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens: a refusal must come first
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Café".encode("latin-1")), encoding="utf-8"))

    code = await chat.main(["--tenant", "acme", "--agent", "support", "--thread", "t1", "-"])

    assert code == 2
    assert "standard input is not valid UTF-8 text (it holds byte 0xe9)" in capsys.readouterr().err


CHAT = Path(__file__).resolve().parents[2] / "clients" / "chat.py"


@pytest.mark.parametrize(
    "locale_env",
    [{"LC_ALL": "C"}, {"LC_ALL": "C", "PYTHONIOENCODING": "latin-1"}, {"LC_ALL": "C.UTF-8"}],
    ids=["C locale", "latin-1 standard streams", "UTF-8 locale"],
)
def test_non_utf8_standard_input_gets_the_same_clear_error_under_any_locale(locale_env):
    locale_names = ("LANG", "LC_ALL", "LC_CTYPE", "PYTHONIOENCODING", "PYTHONUTF8")
    env = {name: value for name, value in os.environ.items() if name not in locale_names}
    env.update(locale_env, TEMPORAL_ADDRESS="127.0.0.1:1")
    done = subprocess.run(
        [sys.executable, str(CHAT), "--tenant", "acme", "--agent", "support", "--thread", "t1", "-"],
        input="Café".encode("latin-1"),
        env=env,
        capture_output=True,
        timeout=300,
    )

    assert done.returncode == 2
    assert "standard input is not valid UTF-8 text (it holds byte 0xe9); nothing was sent" in done.stderr.decode()
    assert b"surrogate" not in done.stderr
