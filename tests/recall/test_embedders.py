"""Embedding adapters against stand-ins for the providers' HTTP APIs, plus the offline model."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import Any, Callable

import httpx
import pytest

from memory.core.config import Settings
from memory.embedding.base import (
    EmbeddingModelId,
    EmbeddingRejected,
    EmbeddingUnavailable,
)
from memory.embedding.offline import OfflineEmbedder
from memory.embedding.openai_embedder import OpenAIEmbedder
from memory.embedding.registry import build_embedder
from memory.embedding.voyage import VoyageEmbedder
from memory.recall.service import EmbedderPool
from memory.runtime import MemoryRuntime

KEY = "pa-secret-key-42"


class Recorder:
    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]):
        self.respond = respond
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.respond(request)

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


def embeddings_reply(vectors: list[list[float]], order: list[int] | None = None) -> httpx.Response:
    order = order if order is not None else list(range(len(vectors)))
    data = [{"object": "embedding", "index": i, "embedding": vectors[i]} for i in order]
    return httpx.Response(200, json={"object": "list", "data": data, "usage": {"total_tokens": 3}})


def voyage(recorder: Recorder, dimension: int = 2) -> VoyageEmbedder:
    model = EmbeddingModelId(provider="voyage", model="voyage-3.5", dimension=dimension)
    return VoyageEmbedder(KEY, model, http_client=recorder.client())


def openai(recorder: Recorder, model: str = "text-embedding-3-small", dimension: int = 2) -> OpenAIEmbedder:
    model_id = EmbeddingModelId(provider="openai", model=model, dimension=dimension)
    return OpenAIEmbedder(KEY, model_id, http_client=recorder.client())


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))  # offline vectors are unit length


# --- Voyage -----------------------------------------------------------------


async def test_voyage_request_shape_and_ordering_by_index() -> None:
    recorder = Recorder(lambda r: embeddings_reply([[1.0, 0.0], [0.0, 1.0]], order=[1, 0]))
    vectors = await voyage(recorder).embed(["alpha", "beta"], purpose="query")
    request = recorder.requests[0]
    assert request.method == "POST" and str(request.url) == "https://api.voyageai.com/v1/embeddings"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert recorder.body == {
        "input": ["alpha", "beta"],
        "model": "voyage-3.5",
        "input_type": "query",
        "output_dimension": 2,
    }
    assert vectors == [[1.0, 0.0], [0.0, 1.0]]


async def test_voyage_dimension_mismatch_is_rejected() -> None:
    recorder = Recorder(lambda r: embeddings_reply([[0.1, 0.2, 0.3]]))
    with pytest.raises(EmbeddingRejected, match="3-dimensional.*promises 2"):
        await voyage(recorder).embed(["alpha"], purpose="document")


async def test_voyage_429_is_unavailable_with_retry_after() -> None:
    recorder = Recorder(lambda r: httpx.Response(429, json={"detail": "rate limited"}, headers={"retry-after": "7"}))
    with pytest.raises(EmbeddingUnavailable) as caught:
        await voyage(recorder).embed(["alpha"], purpose="document")
    assert caught.value.retry_after_seconds == 7
    assert "rate limited" in str(caught.value)


async def test_voyage_5xx_and_timeouts_are_unavailable() -> None:
    with pytest.raises(EmbeddingUnavailable):
        await voyage(Recorder(lambda r: httpx.Response(502, text="bad gateway"))).embed(["a"], purpose="query")

    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(EmbeddingUnavailable):
        await voyage(Recorder(time_out)).embed(["a"], purpose="query")


async def test_voyage_400_is_rejected_without_leaking_the_key() -> None:
    recorder = Recorder(lambda r: httpx.Response(400, json={"detail": f"bad input for key {KEY}"}))
    with pytest.raises(EmbeddingRejected) as caught:
        await voyage(recorder).embed(["alpha"], purpose="document")
    assert "400" in str(caught.value) and "bad input" in str(caught.value)
    assert KEY not in str(caught.value)


# --- OpenAI -----------------------------------------------------------------


async def test_openai_request_shape_and_ordering_by_index() -> None:
    recorder = Recorder(lambda r: embeddings_reply([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], order=[2, 0, 1]))
    vectors = await openai(recorder).embed(["a", "b", "c"], purpose="document")
    assert str(recorder.requests[0].url) == "https://api.openai.com/v1/embeddings"
    assert recorder.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert recorder.body == {"input": ["a", "b", "c"], "model": "text-embedding-3-small", "dimensions": 2}
    assert vectors == [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]


async def test_openai_ada_002_omits_dimensions() -> None:
    recorder = Recorder(lambda r: embeddings_reply([[1.0, 0.0]]))
    await openai(recorder, model="text-embedding-ada-002").embed(["a"], purpose="document")
    assert "dimensions" not in recorder.body


async def test_openai_dimension_mismatch_is_rejected() -> None:
    recorder = Recorder(lambda r: embeddings_reply([[1.0]]))
    with pytest.raises(EmbeddingRejected, match="dimension"):
        await openai(recorder).embed(["a"], purpose="document")


async def test_openai_429_is_unavailable_with_retry_after() -> None:
    body = {"error": {"message": "Rate limit reached", "type": "requests"}}
    recorder = Recorder(lambda r: httpx.Response(429, json=body, headers={"retry-after-ms": "250"}))
    with pytest.raises(EmbeddingUnavailable) as caught:
        await openai(recorder).embed(["a"], purpose="document")
    assert caught.value.retry_after_seconds == 0.25


async def test_openai_400_is_rejected_with_provider_message() -> None:
    body = {"error": {"message": "This model's maximum context length is 8192 tokens", "type": "invalid_request_error"}}
    recorder = Recorder(lambda r: httpx.Response(400, json=body))
    with pytest.raises(EmbeddingRejected, match="HTTP 400.*maximum context length"):
        await openai(recorder).embed(["a"], purpose="document")


# --- Offline ----------------------------------------------------------------


async def test_offline_is_deterministic_unit_length_and_sized() -> None:
    first = await OfflineEmbedder(128).embed(["the cat sat on the mat", ""], purpose="document")
    again = await OfflineEmbedder(128).embed(["the cat sat on the mat"], purpose="query")
    assert first[0] == again[0]
    for vector in first:
        assert len(vector) == 128
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0)
    assert OfflineEmbedder(128).model_id == EmbeddingModelId.parse("offline/hashed-ngrams/128")


def test_offline_vectors_survive_a_process_restart() -> None:
    # Stored vectors are compared with ones computed later, in other processes.
    script = (
        "import asyncio; from memory.embedding.offline import OfflineEmbedder; "
        "print(asyncio.run(OfflineEmbedder(64).embed(['remember the milk'], purpose='document'))[0])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


async def test_offline_shared_words_are_closer_than_unrelated_text() -> None:
    query, related, unrelated = await OfflineEmbedder().embed(
        ["my dog likes long walks in the park", "the dog went for a walk in the park", "quarterly tax filing deadline"],
        purpose="document",
    )
    assert cosine(query, related) > cosine(query, unrelated) + 0.2


async def test_offline_ignores_case_and_whitespace() -> None:
    a, b = await OfflineEmbedder().embed(["Hello   World\n", "hello world"], purpose="document")
    assert a == b


# --- Registry ---------------------------------------------------------------


def test_registry_builds_each_provider() -> None:
    settings = Settings(voyage_api_key="v", openai_api_key="o")
    assert isinstance(build_embedder("offline/hashed-ngrams/64", settings), OfflineEmbedder)
    voyage_embedder = build_embedder("voyage/voyage-3.5/1024", settings)
    assert isinstance(voyage_embedder, VoyageEmbedder)
    assert str(voyage_embedder.model_id) == "voyage/voyage-3.5/1024"
    assert isinstance(build_embedder("openai/text-embedding-3-small/512", settings), OpenAIEmbedder)


@pytest.mark.parametrize(
    "model_id,env_var",
    [("voyage/voyage-3.5/1024", "VOYAGE_API_KEY"), ("openai/text-embedding-3-small/1536", "OPENAI_API_KEY")],
)
def test_registry_missing_key_names_the_env_var(model_id: str, env_var: str) -> None:
    with pytest.raises(EmbeddingRejected, match=env_var):
        build_embedder(model_id, Settings())


def test_registry_malformed_id_names_the_expected_form() -> None:
    with pytest.raises(ValueError, match="provider/model/dimension"):
        build_embedder("voyage-3.5", Settings())


def test_registry_unknown_provider_lists_known_ones() -> None:
    with pytest.raises(EmbeddingRejected, match="offline, openai, voyage"):
        build_embedder("cohere/embed-v4/1024", Settings())


async def test_closing_the_runtime_closes_the_embedders_http_clients(settings):
    closed: list[str] = []

    class Remote:
        def __init__(self, model_id: str):
            self.model_id = model_id

        async def aclose(self) -> None:
            closed.append(self.model_id)

    pool = EmbedderPool(Remote)
    runtime = MemoryRuntime.create(settings, embedders=pool)
    pool.get("voyage/voyage-3/1024")
    await runtime.close()
    assert closed == ["voyage/voyage-3/1024"]
