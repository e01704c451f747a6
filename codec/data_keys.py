"""Each tenant's own data key, for crypto-shredding: payloads of a tenant's workflows are
encrypted with the tenant's data key, which is stored in Postgres wrapped (encrypted) by the
key ring's active key. Forgetting the tenant deletes the row; every payload under that key,
wherever Temporal (or a backup of it) still holds it, can no longer be decrypted by anyone.

The owner of a payload is read from its context: the workflow id of the workflow it
belongs to, `<kind>/<tenant>/...` for every tenant workflow (contract.names). Payloads
without a tenant workflow (the forget workflow itself, whose report must outlive the
tenant) use the ring key directly, as every payload did before, and those still decrypt.

Unwrapped keys are cached per process for CACHE_SECONDS, so a payload costs no database
round trip; a forgotten tenant's key lingers in other processes' caches at most that long.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from codec.keys import KEY_BYTES, KeyRing
from contract.names import TENANT_WORKFLOW_KINDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

CACHE_SECONDS = 60.0
_NONCE = 12


def tenant_of_workflow(workflow_id: str | None) -> str | None:
    """The tenant a workflow's payloads belong to, from its id; None for a workflow of no tenant."""
    if not workflow_id:
        return None
    kind, _, rest = workflow_id.partition("/")
    tenant = rest.partition("/")[0]
    return tenant if kind in TENANT_WORKFLOW_KINDS and tenant else None


def _wrap_aad(key_id: str) -> bytes:
    return b"tenant-data-key;" + key_id.encode("ascii")


class DataKeys:
    """Tenant data keys in Postgres (table tenant_data_keys), wrapped by the ring."""

    def __init__(self, database_url: str, keyring: KeyRing, *, cache_seconds: float = CACHE_SECONDS):
        self._url = database_url
        self._ring = keyring
        self._cache_seconds = cache_seconds
        self._engine: AsyncEngine | None = None
        self._by_tenant: dict[str, tuple[str, AESGCM, float]] = {}
        self._by_id: dict[str, tuple[AESGCM, float]] = {}

    def _db(self) -> AsyncEngine:
        if self._engine is None:
            # Imported on first use: a client that never encrypts a tenant's payload loads no database stack.
            from sqlalchemy.ext.asyncio import create_async_engine

            self._engine = create_async_engine(self._url, pool_pre_ping=True)
        return self._engine

    async def for_tenant(self, tenant_id: str) -> tuple[str, AESGCM]:
        """The tenant's key id and cipher, made on the tenant's first payload."""
        cached = self._by_tenant.get(tenant_id)
        if cached and cached[2] > time.monotonic():
            return cached[0], cached[1]
        from sqlalchemy import text

        async with self._db().begin() as conn:
            row = (await conn.execute(_select_by_tenant(), {"t": tenant_id})).first()
            if row is None:
                key_id = f"dk-{secrets.token_hex(8)}"
                key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
                nonce = secrets.token_bytes(_NONCE)
                wrapping = self._ring.active_key_id
                wrapped = nonce + self._ring.cipher(wrapping).encrypt(nonce, key, _wrap_aad(key_id))
                await conn.execute(
                    text(
                        "INSERT INTO tenant_data_keys (tenant_id, key_id, wrapped_key, wrapping_key_id)"
                        " VALUES (:t, :k, :w, :r) ON CONFLICT (tenant_id) DO NOTHING"
                    ),
                    {"t": tenant_id, "k": key_id, "w": wrapped, "r": wrapping},
                )
                row = (await conn.execute(_select_by_tenant(), {"t": tenant_id})).first()
        key_id, cipher = row[0], self._unwrap(row[0], row[1], row[2])
        expires = time.monotonic() + self._cache_seconds
        self._by_tenant[tenant_id] = (key_id, cipher, expires)
        self._by_id[key_id] = (cipher, expires)
        return key_id, cipher

    async def cipher(self, key_id: str) -> AESGCM | None:
        """The cipher of a data key, or None once its tenant was forgotten (or it never existed)."""
        cached = self._by_id.get(key_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        from sqlalchemy import text

        async with self._db().connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT key_id, wrapped_key, wrapping_key_id FROM tenant_data_keys WHERE key_id = :k"),
                    {"k": key_id},
                )
            ).first()
        if row is None:
            self._by_id.pop(key_id, None)
            return None
        cipher = self._unwrap(row[0], row[1], row[2])
        self._by_id[key_id] = (cipher, time.monotonic() + self._cache_seconds)
        return cipher

    def evict(self, tenant_id: str) -> None:
        """Drop this process's copy of a tenant's key (the forget that deleted it calls this)."""
        cached = self._by_tenant.pop(tenant_id, None)
        if cached:
            self._by_id.pop(cached[0], None)

    def _unwrap(self, key_id: str, wrapped: bytes, wrapping_key_id: str) -> AESGCM:
        ring_cipher = self._ring.cipher(wrapping_key_id)
        if ring_cipher is None:
            raise LookupError(f"data key {key_id} is wrapped by ring key {wrapping_key_id!r}, which is not configured")
        try:
            return AESGCM(ring_cipher.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _wrap_aad(key_id)))
        except InvalidTag:
            raise LookupError(f"data key {key_id} does not unwrap with ring key {wrapping_key_id!r}") from None

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def _select_by_tenant():
    from sqlalchemy import text

    return text("SELECT key_id, wrapped_key, wrapping_key_id FROM tenant_data_keys WHERE tenant_id = :t")
