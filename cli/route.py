"""Which way a command goes: the HTTP API when a key is configured and the API answers, else
Temporal directly (the SDK's environment configuration: TEMPORAL_ADDRESS, TEMPORAL_PROFILE,
TEMPORAL_API_KEY, ...) for the commands that only send to or read from workflows. `--verbose`
prints the way taken and why."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

verbose = False


def say(path: str, why: str) -> None:
    if verbose:
        print(f"[{path}] {why}", file=sys.stderr)


def api_or_temporal(through_api: Callable[[], T], through_temporal: Callable[[], T]) -> T:
    from cli.http import ApiUnreachable, api_url

    if not os.environ.get("AGENT_MEMORY_KEY"):
        say("temporal", "no API key configured (AGENT_MEMORY_KEY is not set): talking to Temporal directly")
        return through_temporal()
    try:
        result = through_api()
    except ApiUnreachable as err:
        # A configured API that does not answer is worth a word even without --verbose.
        print(f"note: {err}: talking to Temporal directly", file=sys.stderr)
        return through_temporal()
    say("api", f"answered by the API at {api_url()}")
    return result
