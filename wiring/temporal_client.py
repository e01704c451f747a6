"""How every process of the project talks to Temporal: the pydantic converter, payload
encryption when PAYLOAD_ENCRYPTION_KEYS is set, and tracing across client, workflow and
activities (spans are only exported when OTLP is configured)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from temporalio.contrib.opentelemetry import TracingInterceptor

from codec.aes_gcm import data_converter
from codec.keys import KeyConfigError, KeyRing


class ClientConfigError(ValueError):
    """The environment asks for something that cannot work (a malformed encryption key)."""


def client_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        keyring = KeyRing.from_env(environ)
    except KeyConfigError as err:
        raise ClientConfigError(f"payload encryption is misconfigured: {err}") from None
    # On the client only: a worker built from this client inherits it (twice would double spans).
    return {"data_converter": data_converter(keyring), "interceptors": [TracingInterceptor()]}
