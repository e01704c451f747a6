"""The HTTP side shared by the hosted embedding providers.

Voyage and OpenAI answer with the same response shape and the same kinds of
failure, so status classification, retry-after parsing and response parsing live
here once. The retry-after parser is provider-neutral and used by model clients too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import httpx

from memory.embedding.base import (
    EmbeddingModelId,
    EmbeddingRejected,
    EmbeddingUnavailable,
)

# Longer waits belong to the retry policy's own backoff, not to one provider hint.
MAX_RETRY_AFTER_SECONDS = 60.0

# Statuses that say "try again later" rather than "this request is wrong".
_TRANSIENT_4XX = frozenset({408, 409, 429})


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from retry-after-ms or retry-after, clamped; None if absent or unparseable."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) / scale
        except ValueError:
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return min(seconds, MAX_RETRY_AFTER_SECONDS)
    return None


def is_transient_status(status: int) -> bool:
    return status >= 500 or status in _TRANSIENT_4XX


def redact(text: str, secret: str) -> str:
    # Providers sometimes echo a malformed key back; it must never reach logs or history.
    return text.replace(secret, "[redacted]") if secret else text


def provider_error_message(response: httpx.Response) -> str:
    """The human-readable message from an error body, whichever shape the provider uses."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
        for key in ("detail", "message", "error"):
            if isinstance(body.get(key), str):
                return body[key]
    return str(body)[:500]


async def post_for_embeddings(
    client: httpx.AsyncClient,
    url: str,
    api_key: str,
    body: dict[str, Any],
    model_id: EmbeddingModelId,
    expected_count: int,
) -> list[list[float]]:
    """POST an embeddings request, classify failures, and return vectors in input order."""
    label = f"embedding model {model_id}"
    try:
        response = await client.post(url, json=body, headers={"Authorization": f"Bearer {api_key}"})
    except httpx.TransportError as err:
        raise EmbeddingUnavailable(redact(f"{label}: {type(err).__name__}: {err}", api_key)) from None
    if response.status_code >= 400:
        message = redact(
            f"{label}: HTTP {response.status_code}: {provider_error_message(response)}", api_key
        )
        if is_transient_status(response.status_code):
            raise EmbeddingUnavailable(message, retry_after_seconds=parse_retry_after(response.headers))
        raise EmbeddingRejected(message)
    return _parse_vectors(response, model_id, expected_count, label)


def _parse_vectors(
    response: httpx.Response, model_id: EmbeddingModelId, expected_count: int, label: str
) -> list[list[float]]:
    try:
        data = response.json()["data"]
        ordered = sorted(data, key=lambda item: item["index"])
        vectors = [[float(x) for x in item["embedding"]] for item in ordered]
    except (ValueError, KeyError, TypeError) as err:
        # A garbled 200 usually comes from a proxy in between; worth another attempt.
        raise EmbeddingUnavailable(f"{label}: malformed response ({type(err).__name__})") from None
    if len(vectors) != expected_count:
        raise EmbeddingUnavailable(f"{label}: asked for {expected_count} vectors, got {len(vectors)}")
    for vector in vectors:
        if len(vector) != model_id.dimension:
            raise EmbeddingRejected(
                f"{label} returned {len(vector)}-dimensional vectors but the id promises "
                f"{model_id.dimension}; fix the configured dimension"
            )
    return vectors
