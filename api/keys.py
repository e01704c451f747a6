"""Per-tenant API keys: created and revoked by an operator, stored as a hash, shown once.

A key reads `amk_<key id>_<secret>`. The key id is public (listings, logs); the secret is
32 random bytes, so a plain SHA-256 of it is as good as a slow hash and costs nothing per
request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from memory.core.validation import InvalidInput, check_id, check_storable

PREFIX = "amk"

api_keys = Table(
    "api_keys",
    MetaData(),
    Column("key_id", String(32), primary_key=True),
    Column("tenant_id", String(64), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
)


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    OPERATOR = "operator"

    def allows(self, needed: "Scope") -> bool:
        order = [Scope.READ, Scope.WRITE, Scope.OPERATOR]
        return order.index(self) >= order.index(needed)


def check_scope(value: object) -> Scope:
    try:
        return Scope(value)
    except ValueError:
        raise InvalidInput(f"unknown scope {str(value)[:40]!r}: scopes are read, write, operator") from None


class ApiKey(BaseModel):
    """What a request is allowed to do: the tenant it belongs to and the scope."""

    key_id: str
    tenant_id: str
    scope: Scope
    name: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None


class IssuedKey(BaseModel):
    key: ApiKey
    # The only time the whole key exists outside its holder's hands.
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_key(presented: str) -> tuple[str, str] | None:
    """(key id, whole key) of a well-formed key, None for anything else."""
    parts = presented.split("_")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1].isalnum() or len(parts[1]) > 32:
        return None
    return parts[1], presented


class KeyStore:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine

    async def create(self, tenant_id: str, scope: str, *, name: str, created_by: str) -> IssuedKey:
        check_id("tenant", tenant_id)
        chosen = check_scope(scope)
        for kind, text in (("name", name), ("created by", created_by)):
            if not text.strip() or len(text) > 200:
                raise InvalidInput(f"{kind} must be 1 to 200 characters")
            check_storable(kind, text)
        key_id = secrets.token_hex(6)
        secret = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32).replace('_', '').replace('-', '')}"
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    api_keys.insert()
                    .values(
                        key_id=key_id,
                        tenant_id=tenant_id,
                        scope=chosen.value,
                        name=name,
                        secret_sha256=_digest(secret),
                        created_by=created_by,
                    )
                    .returning(*_public_columns())
                )
            ).mappings().one()
        return IssuedKey(key=ApiKey(**row), secret=secret)

    async def authenticate(self, presented: str) -> ApiKey | None:
        """The key's owner and scope; None for an unknown, malformed or revoked key."""
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key_id, whole = parsed
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(api_keys).where(api_keys.c.key_id == key_id))
            ).mappings().one_or_none()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["secret_sha256"], _digest(whole)):
            return None
        return ApiKey(**{name: row[name] for name in ApiKey.model_fields})

    async def by_id(self, key_id: str) -> ApiKey | None:
        """A key by its public id (revoked ones too), for a session that names its key."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(*_public_columns()).where(api_keys.c.key_id == key_id))
            ).mappings().one_or_none()
        return None if row is None else ApiKey(**row)

    async def revoke(self, key_id: str) -> ApiKey | None:
        """Revoke a key (already revoked stays revoked at its first time); None if unknown."""
        async with self._engine.begin() as conn:
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=func.now())
            )
            row = (
                await conn.execute(select(*_public_columns()).where(api_keys.c.key_id == key_id))
            ).mappings().one_or_none()
        return None if row is None else ApiKey(**row)

    async def list(self, tenant_id: str | None = None) -> list[ApiKey]:
        query = select(*_public_columns()).order_by(api_keys.c.created_at)
        if tenant_id is not None:
            query = query.where(api_keys.c.tenant_id == check_id("tenant", tenant_id))
        async with self._engine.connect() as conn:
            return [ApiKey(**row) for row in (await conn.execute(query)).mappings()]


def _public_columns():
    return [api_keys.c[name] for name in ApiKey.model_fields]
