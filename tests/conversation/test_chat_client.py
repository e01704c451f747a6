"""clients/chat.py: what a user sees when the message cannot be sent."""

from __future__ import annotations

import io
import sys

from clients import chat


async def test_standard_input_that_is_not_utf8_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # nothing listens: a refusal must come first
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("Café".encode("latin-1")), encoding="utf-8"))

    code = await chat.main(["--tenant", "acme", "--agent", "support", "--thread", "t1", "-"])

    assert code == 2
    assert "standard input is not valid UTF-8 text (it holds byte 0xe9)" in capsys.readouterr().err
