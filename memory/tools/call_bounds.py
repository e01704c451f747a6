"""Bounds on what a model response may ask for, applied inside the model activity.

A tool call nested hundreds deep still encodes in the activity but cannot be decoded by
the workflow, which then retries its task for ever with the result already in history;
deeper still, the billed model call itself fails and is retried. So the activity measures
each call's arguments (without recursion) and hands the workflow a call it can always
decode: one whose arguments name the problem, which the tool runner refuses with that
message for the model to read. Calls past the per-response cap are dropped.
"""

from __future__ import annotations

import json
from typing import Any

from memory.llm.base import ToolCall

MAX_ARGUMENT_DEPTH = 16
MAX_ARGUMENT_CHARS = 64_000
MAX_TOOL_CALLS_PER_RESPONSE = 8
# The key of the stand-in arguments of a refused call; the tool runner reports its text.
REFUSED_ARGUMENTS_KEY = "__refused__"


def argument_depth(value: Any, *, stop_at: int) -> int:
    """How deeply lists and objects nest in `value`, counted up to `stop_at` and no further."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > stop_at:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def argument_problem(arguments: Any, *, max_depth: int = MAX_ARGUMENT_DEPTH, max_chars: int = MAX_ARGUMENT_CHARS) -> str | None:
    depth = argument_depth(arguments, stop_at=max_depth)
    if depth > max_depth:
        return f"the arguments nest more than {max_depth} levels deep; the limit is {max_depth}"
    try:
        size = len(json.dumps(arguments, ensure_ascii=False))
    except (TypeError, ValueError):
        return "the arguments are not JSON"
    if size > max_chars:
        return f"the arguments are {size} characters of JSON; the limit is {max_chars}"
    return None


def bound_tool_calls(calls: list[ToolCall], *, max_calls: int = MAX_TOOL_CALLS_PER_RESPONSE) -> list[ToolCall]:
    """At most `max_calls` calls, each with arguments the workflow can decode."""
    bounded = []
    for call in calls[:max_calls]:
        problem = argument_problem(call.arguments)
        if problem is not None:
            call = ToolCall(id=call.id[:200], name=call.name[:200], arguments={REFUSED_ARGUMENTS_KEY: problem})
        bounded.append(call)
    return bounded
