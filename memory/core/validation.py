"""Input rules shared by clients, workflow validators and activities.

Refusing bad input at every edge means a malformed request never reaches a store.
"""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
ID_RULE = "1-64 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit"


# No store accepts a message longer than this, whatever a thread's own limit says.
MAX_STORED_MESSAGE_CHARS = 1_000_000


class InvalidInput(ValueError):
    """Input that can never succeed, however often it is retried."""


def check_id(kind: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{kind} id must be a string, got {type(value).__name__}")
    if not ID_PATTERN.match(value):
        raise InvalidInput(f"{kind} id {value[:80]!r} is malformed: use {ID_RULE}")
    return value


def check_storable(kind: str, text: str) -> str:
    """Text bound for a Postgres text column: Postgres cannot hold a NUL character, and its
    DataError would come too late, after the request was accepted."""
    if "\x00" in text:
        raise InvalidInput(f"{kind} contains a NUL byte (0x00), which no text store accepts")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{kind} contains an unpaired surrogate and is not valid Unicode text") from None
    return text


def check_message(text: object, *, max_chars: int) -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"message must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInput("message is empty or whitespace only")
    if len(text) > max_chars:
        raise InvalidInput(f"message is {len(text)} characters; the limit is {max_chars}")
    if "\x00" in text:
        raise InvalidInput("message contains a NUL byte")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("message contains an unpaired surrogate and is not valid Unicode text") from None
    return text
