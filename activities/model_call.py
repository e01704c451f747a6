"""The model call: hydrate the manifest, assemble the cache-stable prompt, generate, bill."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.tracing import traced
from activities.turn_models import GenerateInput, GenerateOutput
from memory.conversation.store import ConversationStore
from memory.core.metrics import (
    PROMPT_CACHE_READ_PER_TURN,
    PROMPT_CACHE_READ_TOKENS,
    PROMPT_CACHE_WRITE_TOKENS,
)
from memory.core.usage import Action, UsageLedger
from memory.documents.path_store import DocumentStore
from memory.graph.service import KnowledgeGraph
from memory.learning.episodic import EpisodicMemory
from memory.llm.base import LLMClient, ModelRequest
from memory.prompt.hydration import build_working_context
from memory.recall.store import RecallStore
from memory.tools.registry import AGENT_TOOLS


@dataclass(frozen=True)
class ContextSources:
    """The stores a manifest's items are read back from to build the prompt."""

    conversation: ConversationStore
    recall: RecallStore
    documents: DocumentStore
    knowledge: KnowledgeGraph
    episodic: EpisodicMemory


class ModelActivities:
    def __init__(self, sources: ContextSources, llm: LLMClient, ledger: UsageLedger):
        self._sources = sources
        self._llm = llm
        self._ledger = ledger

    @activity.defn(name="model_generate")
    @heartbeats
    @traced("model", "generate")
    async def generate(self, request: GenerateInput) -> GenerateOutput:
        context = await build_working_context(
            request.thread,
            request.manifest,
            request.user_message_id,
            conversation=self._sources.conversation,
            recall=self._sources.recall,
            documents=self._sources.documents,
            knowledge=self._sources.knowledge,
            episodic=self._sources.episodic,
            learned=request.learned,
            learned_unchanged=request.learned_unchanged,
            corrections=request.corrections,
        )
        response = await self._llm.generate(
            ModelRequest(
                system=context.system,
                messages=context.messages,
                tools=AGENT_TOOLS if request.tools_enabled else [],
                tool_calls=request.tool_calls,
                tool_results=request.tool_results,
            )
        )
        thread = request.thread
        usage = response.usage
        PROMPT_CACHE_READ_TOKENS.labels(tenant=thread.tenant_id).inc(usage.cache_read_input_tokens)
        PROMPT_CACHE_WRITE_TOKENS.labels(tenant=thread.tenant_id).inc(usage.cache_creation_input_tokens)
        PROMPT_CACHE_READ_PER_TURN.observe(usage.cache_read_input_tokens)
        await self._ledger.record(
            idempotency_key=f"{thread.key}/turn/{request.turn}/model/{request.attempt_label}/{request.iteration}",
            tenant_id=thread.tenant_id,
            agent_id=thread.agent_id,
            thread_id=thread.thread_id,
            action=Action.AGENT_TURN,
            provider=response.provider,
            model=response.model,
            usage=response.usage,
        )
        return GenerateOutput(
            text=response.text,
            tool_calls=response.tool_calls,
            usage=response.usage,
            provider=response.provider,
            model=response.model,
        )
