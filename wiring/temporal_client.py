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
from codec.data_keys import DataKeys
from codec.keys import KeyConfigError, KeyRing


class ClientConfigError(ValueError):
    """The environment asks for something that cannot work (a malformed encryption key)."""


def client_options(environ: Mapping[str, str] | None = None, *, database_url: str | None = None) -> dict[str, Any]:
    """With encryption on and a database (database_url, else DATABASE_URL), each tenant's
    workflows are encrypted under the tenant's own data key (codec/data_keys.py), unless
    PAYLOAD_TENANT_KEYS=off."""
    env = os.environ if environ is None else environ
    try:
        keyring = KeyRing.from_env(env)
    except KeyConfigError as err:
        raise ClientConfigError(f"payload encryption is misconfigured: {err}") from None
    database_url = database_url or env.get("DATABASE_URL") or None
    tenant_keys = keyring is not None and database_url and env.get("PAYLOAD_TENANT_KEYS", "on").lower() != "off"
    data_keys = DataKeys(database_url, keyring) if tenant_keys else None
    # On the client only: a worker built from this client inherits it (twice would double spans).
    options: dict[str, Any] = {
        "data_converter": data_converter(keyring, data_keys),
        "interceptors": [TracingInterceptor()],
    }
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


DEFAULT_ADDRESS = "localhost:7233"
DEFAULT_NAMESPACE = "default"


def connect_config(
    environ: Mapping[str, str] | None = None, *, address: str | None = None, namespace: str | None = None
) -> dict[str, Any]:
    """Where and how to connect, by the SDK's environment configuration: a profile of the TOML
    config file (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) overridden by TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_*, so Temporal Cloud or a TLS cluster
    is reached the way the `temporal` CLI reaches it. An address or namespace given here (the
    embedded stack's) wins unless it is only the default and the profile names another."""
    from temporalio.envconfig import ClientConfig

    try:
        config: dict[str, Any] = dict(ClientConfig.load_client_connect_config(override_env_vars=environ))
    except Exception as err:
        raise ClientConfigError(f"the Temporal client configuration cannot be read: {err}") from None
    if address and (address != DEFAULT_ADDRESS or "target_host" not in config):
        config["target_host"] = address
    if namespace and (namespace != DEFAULT_NAMESPACE or "namespace" not in config):
        config["namespace"] = namespace
    config.setdefault("target_host", DEFAULT_ADDRESS)
    config.setdefault("namespace", DEFAULT_NAMESPACE)
    return config


async def connect_client(
    environ: Mapping[str, str] | None = None, *, address: str | None = None, namespace: str | None = None, **extra: Any
):
    """A client with the project's converter, codec and tracing, connected by connect_config."""
    from temporalio.client import Client

    config = connect_config(environ, address=address, namespace=namespace)
    # TEMPORAL_TLS_CA/CERT/KEY files, when set, take the place of the profile's TLS.
    return await Client.connect(**{**config, **client_options(environ)}, **extra)
