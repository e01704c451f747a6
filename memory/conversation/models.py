"""The conversation layer's boundary types, free of any store."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

Status = Literal["running", "completed", "failed"]


class EarlierTurn(BaseModel):
    """The turn a request id was first sent with. "running" means it never finished: its
    run ended mid-turn, or its failure could not be recorded."""

    turn: int
    status: Status
    result: dict[str, Any] | None = None
    error: str | None = None
