"""The AES-256 keys payloads are encrypted with, read from the environment.

    PAYLOAD_ENCRYPTION_KEYS=k1:<base64 32 bytes>,k2:<base64 32 bytes>
    PAYLOAD_ENCRYPTION_KEY_ID=k2        # optional: defaults to the last listed key

Unset (or empty) PAYLOAD_ENCRYPTION_KEYS means encryption is off. New entries for an
operator to append:

    uv run python -m codec.keys new --id k3
    uv run python -m codec.keys check      # what the environment configures, no key material
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
import secrets
import sys
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_VARIABLE = "PAYLOAD_ENCRYPTION_KEYS"
ACTIVE_KEY_VARIABLE = "PAYLOAD_ENCRYPTION_KEY_ID"
KEY_BYTES = 32

# Key ids travel in payload metadata and in the associated data; keeping them to a
# plain alphabet means the entry syntax (",", ":") can never be ambiguous.
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class KeyConfigError(ValueError):
    """The key settings are unusable. Messages name entries by position and key id only:
    they end up in logs, so they never quote key material."""


class KeyRing:
    """Every key payloads may have been encrypted with, by id, and the one new payloads use.

    Holds ciphers rather than raw key bytes, so nothing hands the keys back out.
    """

    __slots__ = ("_ciphers", "_active_key_id")

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str | None = None) -> None:
        if not keys:
            raise KeyConfigError("a key ring needs at least one key")
        ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if len(key) != KEY_BYTES:
                raise KeyConfigError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}")
            ciphers[key_id] = AESGCM(key)
        if active_key_id is None:
            active_key_id = list(ciphers)[-1]
        elif active_key_id not in ciphers:
            raise KeyConfigError(
                f"{ACTIVE_KEY_VARIABLE}={active_key_id!r} names no key in {KEYS_VARIABLE}"
                f" (its key ids: {', '.join(ciphers)})"
            )
        self._ciphers = ciphers
        self._active_key_id = active_key_id

    @classmethod
    def parse(cls, entries: str, active_key_id: str | None = None) -> KeyRing:
        """From `key_id:base64key` entries separated by commas."""
        keys: dict[str, bytes] = {}
        for position, entry in enumerate((e.strip() for e in entries.split(",")), start=1):
            if not entry:
                continue  # a trailing comma is a harmless slip
            key_id, colon, encoded = entry.partition(":")
            key_id = key_id.strip()
            if not colon or not _KEY_ID.fullmatch(key_id):
                # Without a recognisable id the entry might be a bare key: name it by position only.
                raise KeyConfigError(
                    f"{KEYS_VARIABLE} entry {position} is not of the form key_id:base64key"
                    " (key ids use letters, digits, '.', '_' and '-')"
                )
            if key_id in keys:
                raise KeyConfigError(f"{KEYS_VARIABLE} lists key id {key_id!r} twice")
            keys[key_id] = _decode_key(encoded.strip(), key_id)
        if not keys:
            raise KeyConfigError(f"{KEYS_VARIABLE} holds no key entries")
        return cls(keys, active_key_id)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyRing | None:
        """The configured ring, or None when encryption is off (the default)."""
        env = os.environ if environ is None else environ
        entries = env.get(KEYS_VARIABLE, "").strip()
        active = env.get(ACTIVE_KEY_VARIABLE, "").strip() or None
        if not entries:
            if active is not None:
                # Someone meant to turn encryption on; writing plaintext silently would hide that.
                raise KeyConfigError(f"{ACTIVE_KEY_VARIABLE} is set but {KEYS_VARIABLE} is empty")
            return None
        return cls.parse(entries, active)

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    def cipher(self, key_id: str) -> AESGCM | None:
        return self._ciphers.get(key_id)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ciphers

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={list(self._ciphers)!r}, active_key_id={self._active_key_id!r})"


def _check_key_id(key_id: str) -> None:
    # The offending id is not quoted: a mangled entry can put key text where the id goes.
    if not _KEY_ID.fullmatch(key_id):
        raise KeyConfigError("a key id is not valid: key ids are 1-64 letters, digits, '.', '_' or '-'")


def _decode_key(encoded: str, key_id: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        # `from None`: the decoder's own message must not ride along in tracebacks.
        raise KeyConfigError(f"{KEYS_VARIABLE} key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyConfigError(
            f"{KEYS_VARIABLE} key {key_id!r} is {len(key)} bytes; AES-256 needs {KEY_BYTES}"
        )
    return key


def generate_key() -> str:
    """A fresh random AES-256 key, base64-encoded as PAYLOAD_ENCRYPTION_KEYS expects."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def new_entry(key_id: str) -> str:
    """A `key_id:base64key` entry with a fresh key, to append to PAYLOAD_ENCRYPTION_KEYS."""
    _check_key_id(key_id)
    return f"{key_id}:{generate_key()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codec.keys", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="print a new key entry for PAYLOAD_ENCRYPTION_KEYS")
    new.add_argument("--id", required=True, dest="key_id", help="the new key's id, e.g. k2")
    commands.add_parser("check", help="validate the environment's key settings")
    args = parser.parse_args(argv)

    try:
        if args.command == "new":
            print(new_entry(args.key_id))
            print(
                f"Append it to {KEYS_VARIABLE} (keep the old entries so old histories stay"
                f" readable), then set {ACTIVE_KEY_VARIABLE}={args.key_id} or list it last.",
                file=sys.stderr,
            )
            return 0
        ring = KeyRing.from_env()
    except KeyConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if ring is None:
        print(f"encryption is off: {KEYS_VARIABLE} is not set")
    else:
        print(f"encryption is on: keys {', '.join(ring.key_ids)}; new payloads use {ring.active_key_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
