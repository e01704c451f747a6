"""Where the archive meets the end-user dimension: the only place that knows how a row
belongs to one user. Recall items and episodes carry their user; messages belong to the user
of their thread (`thread_users`). Export filters and import writes go through these functions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, exists, select

from memory.core.refs import AgentRef, ThreadRef
from memory.core.schema import thread_users
from memory.core.validation import check_id


def user_condition(table: Table, user_id: str | None) -> list[Any]:
    """The WHERE conditions that keep one user's private rows of `table` (none: every row)."""
    if user_id is None:
        return []
    check_id("user", user_id)
    if "user_id" in table.c:
        return [table.c.user_id == user_id]
    return [exists().where(*_same_thread(table), thread_users.c.user_id == user_id)]


def thread_user(table: Table):
    """The user of a row's thread, as a column to select (None for an agent-wide thread)."""
    if "user_id" in table.c:
        return table.c.user_id.label("user_id")
    return select(thread_users.c.user_id).where(*_same_thread(table)).scalar_subquery().label("user_id")


def user_of(row: Any) -> str | None:
    """The user a stored row belongs to, for its archive record (None: agent-wide)."""
    return row.get("user_id")


def import_thread(agent: AgentRef, thread_id: str, user_id: str | None) -> ThreadRef:
    """The thread an imported private record is written to, with the user it belongs to."""
    return ThreadRef(tenant_id=agent.tenant_id, agent_id=agent.agent_id, thread_id=thread_id, user_id=user_id)


def _same_thread(table: Table):
    return (
        thread_users.c.tenant_id == table.c.tenant_id,
        thread_users.c.agent_id == table.c.agent_id,
        thread_users.c.thread_id == table.c.thread_id,
    )


