"""A Temporal payload codec that encrypts every payload with AES-256-GCM.

Memory content (messages, notes, facts) travels in workflow and activity payloads and is
kept in the server's event history; with this codec the server only ever stores
ciphertext. The whole serialized Payload is encrypted, metadata included, so the
original encoding (json/plain, ...) is not visible either.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)
from typing_extensions import Self

from codec.data_keys import DataKeys, tenant_of_workflow
from codec.keys import KEYS_VARIABLE, KeyRing
from codec.payload_converter import shared_pydantic_data_converter

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
# Set (to b"tenant") when the key id names a tenant's data key rather than a ring key.
KEY_KIND_METADATA = "encryption-key-kind"
TENANT_KEY = b"tenant"
NONCE_BYTES = 12
_TAG_BYTES = 16


class PayloadDecryptionError(ValueError):
    """An encrypted payload could not be turned back into the original."""


class UnknownKeyError(PayloadDecryptionError):
    """The payload names a key the ring does not hold (retired too early, or another deployment's)."""

    def __init__(self, key_id: str, known: Sequence[str]) -> None:
        self.key_id = key_id
        super().__init__(
            f"payload was encrypted with key {key_id!r}, which is not in {KEYS_VARIABLE}"
            f" (it holds: {', '.join(known)}); add that key back to read it"
        )


def _associated_data(key_id: str) -> bytes:
    # Binding the id means a payload relabelled to another key fails authentication
    # instead of being decrypted under a key it was never meant for.
    return ENCODING + b";" + key_id.encode("ascii")


class ShreddedKeyError(PayloadDecryptionError):
    """The payload's tenant data key is gone: the tenant was forgotten (crypto-shredded)."""


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """Encrypts with the ring's active key, or (given tenant data keys) a tenant workflow's
    payloads with its tenant's data key; decrypts with whichever key a payload names."""

    def __init__(self, keyring: KeyRing, data_keys: DataKeys | None = None, *, tenant_id: str | None = None) -> None:
        self._keyring = keyring
        self._data_keys = data_keys
        self._tenant_id = tenant_id

    def with_context(self, context: SerializationContext) -> Self:
        if self._data_keys is None:
            return self
        workflow_id = getattr(context, "workflow_id", None)
        return type(self)(self._keyring, self._data_keys, tenant_id=tenant_of_workflow(workflow_id))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._data_keys is not None and self._tenant_id is not None:
            key_id, cipher = await self._data_keys.for_tenant(self._tenant_id)
            return [self._seal(payload, key_id, cipher, tenant=True) for payload in payloads]
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [await self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        key_id = self._keyring.active_key_id
        cipher = self._keyring.cipher(key_id)
        assert cipher is not None  # the ring guarantees its active key is present
        return self._seal(payload, key_id, cipher, tenant=False)

    def _seal(self, payload: Payload, key_id: str, cipher: AESGCM, *, tenant: bool) -> Payload:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, payload.SerializeToString(), _associated_data(key_id))
        metadata = {"encoding": ENCODING, KEY_ID_METADATA: key_id.encode("ascii")}
        if tenant:
            metadata[KEY_KIND_METADATA] = TENANT_KEY
        return Payload(metadata=metadata, data=nonce + sealed)

    async def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            # Written before encryption was turned on, or by a sender without it.
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if not raw_id:
            raise PayloadDecryptionError(f"encrypted payload carries no {KEY_ID_METADATA!r} metadata")
        key_id = raw_id.decode("ascii", errors="replace")
        if payload.metadata.get(KEY_KIND_METADATA) == TENANT_KEY:
            cipher = await self._data_keys.cipher(key_id) if self._data_keys is not None else None
            if cipher is None:
                raise ShreddedKeyError(
                    f"payload was encrypted with tenant data key {key_id!r}, which "
                    + ("no longer exists: its tenant was forgotten" if self._data_keys else "this process cannot read "
                       "(tenant data keys need DATABASE_URL)")
                )
        else:
            cipher = self._keyring.cipher(key_id)
        if cipher is None:
            raise UnknownKeyError(key_id, self._keyring.key_ids)
        if len(payload.data) < NONCE_BYTES + _TAG_BYTES:
            raise PayloadDecryptionError(f"encrypted payload under key {key_id!r} is truncated")
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(nonce, sealed, _associated_data(key_id))
        except InvalidTag:
            raise PayloadDecryptionError(
                f"encrypted payload under key {key_id!r} failed authentication: it was altered,"
                f" or the key configured as {key_id!r} is not the one it was encrypted with"
            ) from None
        try:
            return Payload.FromString(plaintext)
        except DecodeError:
            raise PayloadDecryptionError(
                f"payload under key {key_id!r} decrypted but is not a Temporal payload"
            ) from None


def data_converter(keyring: KeyRing | None, data_keys: DataKeys | None = None) -> DataConverter:
    """The project's converter, encrypting when a ring is given: `data_converter(KeyRing.from_env())`;
    with data_keys, each tenant's workflows under the tenant's own key."""
    if keyring is None:
        return shared_pydantic_data_converter
    return dataclasses.replace(shared_pydantic_data_converter, payload_codec=EncryptionCodec(keyring, data_keys))
