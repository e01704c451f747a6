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
    return await Client.connect(**config, **client_options(environ), **extra)
