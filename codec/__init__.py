"""Encryption of Temporal payloads, off unless PAYLOAD_ENCRYPTION_KEYS is set.

    from codec import KeyRing, data_converter
    client = await Client.connect(address, data_converter=data_converter(KeyRing.from_env()))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codec.aes_gcm import (
        ENCODING,
        KEY_ID_METADATA,
        EncryptionCodec,
        PayloadDecryptionError,
        UnknownKeyError,
        data_converter,
    )
    from codec.keys import KeyConfigError, KeyRing, generate_key, new_entry

# Resolved on first use rather than imported here, so `python -m codec.keys` and
# `python -m codec.server` run their module once, as __main__ only.
_EXPORTS = {
    "ENCODING": "codec.aes_gcm",
    "KEY_ID_METADATA": "codec.aes_gcm",
    "EncryptionCodec": "codec.aes_gcm",
    "PayloadDecryptionError": "codec.aes_gcm",
    "UnknownKeyError": "codec.aes_gcm",
    "data_converter": "codec.aes_gcm",
    "KeyConfigError": "codec.keys",
    "KeyRing": "codec.keys",
    "generate_key": "codec.keys",
    "new_entry": "codec.keys",
}

__all__ = [
    "ENCODING",
    "KEY_ID_METADATA",
    "EncryptionCodec",
    "KeyConfigError",
    "KeyRing",
    "PayloadDecryptionError",
    "UnknownKeyError",
    "data_converter",
    "generate_key",
    "new_entry",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codec' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
