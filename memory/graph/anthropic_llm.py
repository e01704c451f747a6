"""graphiti's Anthropic client, with each request's usage recorded and its errors classified."""

from __future__ import annotations

import typing
from contextvars import ContextVar

import anthropic
from graphiti_core.llm_client.anthropic_client import AnthropicClient
from graphiti_core.llm_client.config import LLMConfig, ModelSize
from graphiti_core.llm_client.errors import RateLimitError
from graphiti_core.prompts.models import Message
from pydantic import BaseModel

from memory.graph.models import GraphCall
from memory.graph.recording import record
from memory.llm.anthropic_client import _classify

PROVIDER = "anthropic"

_prompt_name: ContextVar[str | None] = ContextVar("graph_prompt_name", default=None)


class RecordedAnthropicClient(AnthropicClient):
    """Records one GraphCall per API request, retries included.

    graphiti's own token_tracker adds the running total of all attempts at every
    attempt, so a retried prompt is counted more than once; usage is therefore taken
    from each response here instead.
    """

    def __init__(self, api_key: str, model: str, *, timeout_seconds: float = 60.0) -> None:
        self._api_key = api_key
        # max_retries=0: Temporal owns retries, with backoff the SDK would hide.
        client = anthropic.AsyncAnthropic(api_key=api_key, max_retries=0, timeout=timeout_seconds)
        super().__init__(LLMConfig(api_key=api_key, model=model, temperature=0), client=client)

    async def generate_response(
        self,
        messages: list[Message],
        response_model: type[BaseModel] | None = None,
        max_tokens: int | None = None,
        model_size: ModelSize = ModelSize.medium,
        group_id: str | None = None,
        prompt_name: str | None = None,
        *,
        attribute_extraction: bool = False,
        model: str | None = None,
    ) -> dict[str, typing.Any]:
        token = _prompt_name.set(prompt_name)
        try:
            return await super().generate_response(
                messages,
                response_model,
                max_tokens,
                model_size,
                group_id,
                prompt_name,
                attribute_extraction=attribute_extraction,
                model=model,
            )
        except RateLimitError as err:
            cause = err.__cause__
            if isinstance(cause, anthropic.AnthropicError):
                raise _classify(cause, self._api_key) from None
            raise
        except anthropic.AnthropicError as err:
            raise _classify(err, self._api_key) from None
        finally:
            _prompt_name.reset(token)

    async def _generate_response(
        self,
        messages: list[Message],
        response_model: type[BaseModel] | None = None,
        max_tokens: int | None = None,
        model_size: ModelSize = ModelSize.medium,
        *,
        model: str | None = None,
    ) -> tuple[dict[str, typing.Any], int, int]:
        response, input_tokens, output_tokens = await super()._generate_response(
            messages, response_model, max_tokens, model_size, model=model
        )
        record(
            GraphCall(
                kind="llm",
                purpose=_prompt_name.get() or "unnamed",
                provider=PROVIDER,
                model=model or self.model,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
            )
        )
        return response, input_tokens, output_tokens
