"""The key commands: they work on the database (DATABASE_URL), as only an operator can."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from api.keys import KeyStore
from memory.core.config import Settings
from memory.core.db import create_engine
from memory.core.validation import InvalidInput


def _with_store(action: Callable[[KeyStore], Awaitable[Any]]) -> Any:
    settings = Settings.from_env()
    if not settings.database_url:
        raise SystemExit("error: DATABASE_URL is not set: keys live in the runtime's Postgres database")

    async def run() -> Any:
        engine = create_engine(settings.database_url, pool_size=1)
        try:
            return await action(KeyStore(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except InvalidInput as err:
        raise SystemExit(f"error: {err}") from None


def create(tenant: str, scope: str, name: str, operator: str) -> dict:
    return _with_store(lambda keys: keys.create(tenant, scope, name=name, created_by=operator)).model_dump(mode="json")


def revoke(key_id: str) -> None:
    if _with_store(lambda keys: keys.revoke(key_id)) is None:
        raise SystemExit(f"error: no key {key_id}")


def listing(tenant: str | None) -> list[dict]:
    return [k.model_dump(mode="json") for k in _with_store(lambda keys: keys.list(tenant))]
