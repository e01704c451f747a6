"""Which end user a thread belongs to: at most one, fixed by the thread's first message.

A thread that starts with a user is that user's for good; one that starts without a user
(or that has messages from before users existed) stays agent-wide. Any other user, or a
message without the user, on such a thread is refused before anything is stored.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.refs import ThreadRef
from memory.core.schema import messages, thread_users
from memory.core.validation import InvalidInput, check_id


class ThreadUserMismatch(InvalidInput):
    """A message for a thread names another user than the one the thread belongs to."""


def mismatch(thread: ThreadRef, owner: str | None) -> ThreadUserMismatch:
    """The refusal, naming both sides so the caller knows which thread and user to use."""
    asked = f"user {thread.user_id}" if thread.user_id else "no user"
    has = f"belongs to user {owner}" if owner else "belongs to no user (it is agent-wide)"
    return ThreadUserMismatch(
        f"thread {thread.thread_id} of agent {thread.agent_id} {has}; a message for {asked} "
        "cannot join it: a thread belongs to at most one user, fixed by its first message"
    )


class ThreadUsers:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def claim(self, thread: ThreadRef) -> None:
        """Bind a new thread to its user, or check that an existing thread is this user's.
        Raises ThreadUserMismatch, and stores nothing, when it is not."""
        async with self._engine.begin() as conn:
            owner = await conn.scalar(select(thread_users.c.user_id).where(*_key(thread)))
            if owner is None:
                started = await conn.scalar(
                    select(
                        exists().where(
                            messages.c.tenant_id == thread.tenant_id,
                            messages.c.agent_id == thread.agent_id,
                            messages.c.thread_id == thread.thread_id,
                        )
                    )
                )
                if started or thread.user_id is None:
                    if thread.user_id is not None:
                        raise mismatch(thread, None)
                    return
                await conn.execute(
                    insert(thread_users)
                    .values(
                        tenant_id=thread.tenant_id,
                        agent_id=thread.agent_id,
                        thread_id=thread.thread_id,
                        user_id=thread.user_id,
                    )
                    .on_conflict_do_nothing()
                )
                owner = await conn.scalar(select(thread_users.c.user_id).where(*_key(thread)))
            if owner != thread.user_id:
                raise mismatch(thread, owner)

    async def threads_of(self, tenant_id: str, user_id: str) -> list[ThreadRef]:
        """Every thread of one user of a tenant, across agents."""
        check_id("user", user_id)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(thread_users.c.agent_id, thread_users.c.thread_id)
                .where(thread_users.c.tenant_id == tenant_id, thread_users.c.user_id == user_id)
                .order_by(thread_users.c.agent_id, thread_users.c.thread_id)
            )
            return [
                ThreadRef(tenant_id=tenant_id, agent_id=a, thread_id=t, user_id=user_id) for a, t in rows.all()
            ]


def _key(thread: ThreadRef):
    return (
        thread_users.c.tenant_id == thread.tenant_id,
        thread_users.c.agent_id == thread.agent_id,
        thread_users.c.thread_id == thread.thread_id,
    )
