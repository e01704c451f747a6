"""The model call: hydrate the manifest, assemble the cache-stable prompt, generate, bill."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.tracing import traced
from activities.turn_models import GenerateInput, GenerateOutput
from memory.agents.model_choice import AgentModels
from memory.agents.models import AgentVersion
from memory.agents.store import AgentDefinitions
from memory.agents.tools import agent_tool_specs, agent_tools
from memory.conversation.store import ConversationStore
from memory.core.config import Settings
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
from memory.tools.call_bounds import bound_tool_calls
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
    def __init__(
        self,
        sources: ContextSources,
        llm: LLMClient,
        ledger: UsageLedger,
        *,
        agents: AgentDefinitions,
        agent_models: AgentModels,
        settings: Settings,
    ):
        self._sources = sources
        self._llm = llm
        self._ledger = ledger
        self._agents = agents
        self._agent_models = agent_models
        self._settings = settings

    @activity.defn(name="model_generate")
    @heartbeats
    @traced("model", "generate")
    async def generate(self, request: GenerateInput) -> GenerateOutput:
        agent = await self._agent(request)
        manifest = request.manifest
        if agent is not None:
            # The layers it does not read are left out here, at hydration: the cheapest place,
            # and the workflow records the manifest the model actually saw.
            manifest = [item for item in manifest if item.layer in agent.spec.reads]
        context = await build_working_context(
            request.thread,
            manifest,
            request.user_message_id,
            conversation=self._sources.conversation,
            recall=self._sources.recall,
            documents=self._sources.documents,
            knowledge=self._sources.knowledge,
            episodic=self._sources.episodic,
            learned=request.learned,
            learned_unchanged=request.learned_unchanged,
            corrections=request.corrections,
            agent_instructions=agent.spec.instructions if agent else None,
        )
        settings = self._settings
        # The worker's MAX_TOOL_ITERATIONS bounds the loop whatever the thread's limits say.
        tools_allowed = request.tools_enabled and request.iteration < settings.max_tool_iterations
        model_request = ModelRequest(
            system=context.system,
            messages=context.messages,
            tools=AGENT_TOOLS if tools_allowed else [],
            tool_calls=request.tool_calls,
            tool_results=request.tool_results,
        )
        llm = self._llm
        if agent is not None:
            llm = self._agent_models.client_for(agent.spec)
            model_request = model_request.model_copy(
                update={
                    "tools": agent_tool_specs(agent) if tools_allowed else [],
                    "max_output_tokens": agent.spec.max_output_tokens,
                    "temperature": agent.spec.temperature,
                }
            )
        response = await llm.generate(model_request)
        thread = request.thread
        usage = response.usage
        PROMPT_CACHE_READ_TOKENS.labels(tenant=thread.tenant_id).inc(usage.cache_read_input_tokens)
        PROMPT_CACHE_WRITE_TOKENS.labels(tenant=thread.tenant_id).inc(usage.cache_creation_input_tokens)
        PROMPT_CACHE_READ_PER_TURN.observe(usage.cache_read_input_tokens)
        key = f"{thread.key}/turn/{request.turn}/model/{request.attempt_label}/{request.iteration}"
        await self._ledger.record_response(key, thread, Action.AGENT_TURN, response)
        return GenerateOutput(
            text=response.text,
            # Bounded here, after the call is billed and recorded: the workflow can always
            # decode the result, and nothing retries the model call for it.
            tool_calls=bound_tool_calls(response.tool_calls, max_calls=settings.max_tool_calls_per_response),
            usage=response.usage,
            provider=response.provider,
            model=response.model,
            agent=agent_tools(agent) if agent else None,
        )

    async def _agent(self, request: GenerateInput) -> AgentVersion | None:
        if not request.use_agent:
            return None
        ref = request.thread.agent
        if request.agent_version is None:
            return await self._agents.current(ref)
        agent = await self._agents.get(ref, request.agent_version)
        if agent is None:
            raise LookupError(f"agent {ref.agent_id} has no version {request.agent_version}")
        return agent
