"""A message is stored once per thread, turn and role: a retried append (a re-run activity)
gets the row the first attempt stored, whatever text the retry carries."""

from __future__ import annotations

from sqlalchemy import func, select

from memory.core.schema import messages


async def test_a_retried_append_returns_the_first_stored_row_and_stores_nothing_more(runtime, thread):
    first = await runtime.conversation.append(thread, 1, "user", "Where do invoices go?")
    again = await runtime.conversation.append(thread, 1, "user", "Where do invoices go?")
    other_text = await runtime.conversation.append(thread, 1, "user", "a different text on retry")

    assert again == first and other_text == first
    assert first.content == "Where do invoices go?" and first.turn == 1 and first.role == "user"
    async with runtime.engine.connect() as conn:
        stored = await conn.scalar(
            select(func.count()).select_from(messages).where(messages.c.tenant_id == thread.tenant_id)
        )
    assert stored == 1
    reply = await runtime.conversation.append(thread, 1, "assistant", "To ap@example.com.")
    assert reply.id != first.id and reply.role == "assistant"
