"""Where the archive meets the end-user dimension: the only place that knows whether, and
how, a row belongs to one user. Export filters and import writes go through these three
functions, so pointing them at the user column is all the user dimension asks of the archive.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from memory.core.refs import AgentRef, ThreadRef
from memory.core.validation import InvalidInput, check_id


def user_condition(table: Table, user_id: str | None) -> list[Any]:
    """The WHERE conditions that keep one user's private rows of `table` (none: every row).
    A deployment whose tables have no user column cannot tell users apart, so a filter for
    one user is refused there rather than exporting everybody's memories."""
    if user_id is None:
        return []
    check_id("user", user_id)
    if "user_id" not in table.c:
        raise InvalidInput(
            f"this deployment keeps no user with {table.name}, so one user's memories cannot be told apart; "
            "export without --user"
        )
    return [table.c.user_id == user_id]


def user_of(row: Any) -> str | None:
    """The user a stored row belongs to, for its archive record (None: agent-wide)."""
    return row.get("user_id") if hasattr(row, "get") else None


def import_thread(agent: AgentRef, thread_id: str, user_id: str | None) -> ThreadRef:
    """The thread an imported private record is written to. The user travels with the record;
    once threads carry a user, this is where the imported thread is given it."""
    if user_id is not None:
        check_id("user", user_id)
    return ThreadRef(tenant_id=agent.tenant_id, agent_id=agent.agent_id, thread_id=thread_id)
