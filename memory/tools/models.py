"""The tool layer's boundary types, free of any store."""

from __future__ import annotations

from enum import StrEnum


class ToolStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
