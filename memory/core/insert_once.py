"""Writing a row once per idempotency key, and getting the stored row back in one statement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, RowMapping, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_once(
    conn: AsyncConnection, statement: Insert, key: Column, key_value: Any, *columns: Column
) -> RowMapping:
    """The row stored under key_value (the columns asked for): the one this insert wrote, or
    the one an earlier attempt wrote, which this one leaves as it was.

    The insert returns its own row, so a first attempt costs one statement; only a retry
    reads the stored row back."""
    inserted = await conn.execute(statement.on_conflict_do_nothing(index_elements=[key]).returning(*columns))
    row = inserted.mappings().first()
    if row is None:
        row = (await conn.execute(select(*columns).where(key == key_value))).mappings().one()
    return row
