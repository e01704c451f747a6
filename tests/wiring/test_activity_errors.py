"""activities/errors.py: which failures an activity retries and which it reports at once (the
worker plugin's interceptor runs every activity through it)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError

from activities.errors import run_classified


class Probe:
    def __init__(self, engine):
        self.engine = engine

    async def store(self, request: tuple[str, dict]):
        return await run_classified(lambda: self._store(request), request)

    async def _store(self, request: tuple[str, dict]):
        statement, values = request
        async with self.engine.connect() as conn:
            return await conn.scalar(text(statement), values)


@pytest.mark.parametrize(
    "statement, values, said",
    [
        ("select cast(:v as text)", {"v": "Dana\x00Smith"}, "NUL"),
        ("select cast(:v as smallint)", {"v": "70000"}, "out of range"),
    ],
)
async def test_data_postgres_refuses_fails_at_once_instead_of_being_retried(runtime, statement, values, said):
    with pytest.raises(ApplicationError) as refused:
        await Probe(runtime.engine).store((statement, values))
    assert refused.value.non_retryable
    assert "the database refused the data" in str(refused.value) and said in str(refused.value)


async def test_what_postgres_accepts_passes_through(runtime):
    assert await Probe(runtime.engine).store(("select cast(:v as text)", {"v": "Dana Smith"})) == "Dana Smith"
