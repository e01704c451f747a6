"""One user's memories are exported only where the stores can tell users apart: a table with a
user column is filtered by it, and one without refuses a user filter instead of exporting
every user's memories."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, select

from memory.archive.users import user_condition
from memory.core.schema import messages
from memory.core.validation import InvalidInput

with_users = Table(
    "messages_with_users", MetaData(), Column("id", BigInteger), Column("user_id", String(64)), Column("content", Text)
)


def test_a_user_filter_on_a_table_with_a_user_column_keeps_that_users_rows_only():
    query = select(with_users).where(*user_condition(with_users, "customer-7"))
    compiled = query.compile(compile_kwargs={"literal_binds": True})
    assert "messages_with_users.user_id = 'customer-7'" in str(compiled)


def test_no_user_filter_keeps_every_row():
    assert user_condition(messages, None) == []


@pytest.mark.skipif("user_id" in messages.c, reason="the stores keep users: the filter applies")
def test_a_user_filter_where_the_stores_keep_no_users_is_refused():
    with pytest.raises(InvalidInput, match="cannot be told apart"):
        user_condition(messages, "customer-7")


def test_a_malformed_user_id_is_refused():
    with pytest.raises(InvalidInput, match="user id"):
        user_condition(with_users, "../everyone")
