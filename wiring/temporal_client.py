"""How every process of the project talks to Temporal: the pydantic converter, payload
encryption when PAYLOAD_ENCRYPTION_KEYS is set, and tracing across client, workflow and
activities (spans are only exported when OTLP is configured)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.service import TLSConfig

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
    options: dict[str, Any] = {"data_converter": data_converter(keyring), "interceptors": [TracingInterceptor()]}
    tls = tls_config(environ)
    if tls is not None:
        options["tls"] = tls
    return options


TLS_VARIABLES = ("TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_SERVER_NAME")


def tls_config(environ: Mapping[str, str] | None = None) -> TLSConfig | None:
    """TLS to the Temporal frontend, mutual when a client certificate and key are given:
    TEMPORAL_TLS_CA (the server's CA, PEM file), TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (this
    process's certificate and key, PEM files), TEMPORAL_TLS_SERVER_NAME (when the address is
    not the name in the server's certificate). None of them set: plaintext."""
    env = os.environ if environ is None else environ
    values = {name: env.get(name) or None for name in TLS_VARIABLES}
    if not any(values.values()):
        return None
    cert, key = values["TEMPORAL_TLS_CERT"], values["TEMPORAL_TLS_KEY"]
    if bool(cert) != bool(key):
        raise ClientConfigError("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both for mTLS, or neither")

    def read(name: str) -> bytes | None:
        path = values[name]
        if path is None:
            return None
        try:
            return Path(path).read_bytes()
        except OSError as err:
            raise ClientConfigError(f"{name}={path} cannot be read: {err.strerror}") from None

    return TLSConfig(
        server_root_ca_cert=read("TEMPORAL_TLS_CA"),
        client_cert=read("TEMPORAL_TLS_CERT"),
        client_private_key=read("TEMPORAL_TLS_KEY"),
        domain=values["TEMPORAL_TLS_SERVER_NAME"],
    )
