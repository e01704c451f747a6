"""Which client answers for an agent: built once per distinct model choice, then reused."""

from __future__ import annotations

import os
from collections.abc import Mapping

from memory.agents.models import AgentSpec
from memory.core.config import Settings
from memory.llm.base import LLMClient, ModelRequestRejected


class AgentModels:
    def __init__(self, settings: Settings, default: LLMClient, *, environ: Mapping[str, str] | None = None):
        self._settings = settings
        self._default = default
        self._environ = os.environ if environ is None else environ
        self._clients: dict[tuple[str, str | None, str | None], LLMClient] = {}

    def client_for(self, spec: AgentSpec) -> LLMClient:
        """Raises ModelRequestRejected when the model needs a key the worker does not have:
        no retry can fix that, and the message says which variable to set."""
        key = (spec.model, spec.base_url, spec.api_key_env)
        if key not in self._clients:
            self._clients[key] = self._build(spec)
        return self._clients[key]

    def _key(self, spec: AgentSpec, fallback: str | None) -> str | None:
        if spec.api_key_env:
            return self._environ.get(spec.api_key_env)
        return fallback

    def _build(self, spec: AgentSpec) -> LLMClient:
        if spec.provider == "offline":
            if self._default.provider == "offline":
                return self._default
            from memory.llm.offline import OfflineModel

            return OfflineModel(context_window_tokens=self._settings.offline_context_window_tokens)
        if spec.provider == "anthropic":
            key = self._key(spec, self._settings.anthropic_api_key)
            if not key:
                raise ModelRequestRejected(
                    f"model {spec.model} needs {spec.api_key_env or 'ANTHROPIC_API_KEY'} set on the worker"
                )
            from memory.llm.anthropic_client import AnthropicClient

            return AnthropicClient(key, spec.model_name)
        from memory.llm.openai_compatible import OpenAICompatibleClient

        base_url = spec.base_url or self._settings.openai_base_url
        key = self._key(spec, self._settings.openai_api_key)
        if spec.api_key_env and not key:
            raise ModelRequestRejected(f"model {spec.model} at {base_url} needs {spec.api_key_env} set on the worker")
        return OpenAICompatibleClient(spec.model_name, base_url=base_url, api_key=key)

    async def close(self) -> None:
        for client in self._clients.values():
            if client is not self._default and hasattr(client, "aclose"):
                await client.aclose()
