"""The turn's steps up to its reply, as ConversationWorkflow runs them: the agent version
that answers, the reads, the model/tool loop, and the summary an overflow folds the thread into.
A mixin of the workflow: the state it reads and writes is the workflow's own."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.agents import AgentActivities
    from activities.conversation import ConversationActivities
    from activities.model_call import ModelActivities
    from activities.turn_models import (
        GenerateInput,
        GenerateOutput,
        MessageRef,
        SummariseInput,
    )
    from activities.turn_step_models import TurnRead, TurnReadInput
    from contract.conversation import thread_limits
    from memory.agents.models import AnsweringAgent
    from memory.llm.base import ModelUsage
    from memory.prompt.assembly import LearnedEntry
    from memory.prompt.manifest import ContextItem
    from workflows import patches, turn_steps
    from workflows.options import TURN_MODEL_CALL
    from workflows.tools import LEARNING_PATCH, ToolRunner
    from workflows.turn_outcome import add_usage
    from workflows.turn_progress import TurnSoFar

# What each flag changes, and which recorded histories still need its old branch: workflows/patches.py.
KNOWLEDGE_GRAPH_PATCH = patches.KNOWLEDGE_GRAPH.id
# From here on a turn answers as the thread's agent as its operator defined it (when it is):
# the model call resolves the version, and the turn keeps that version, its tools and its reads.
AGENT_DEFINITIONS_PATCH = patches.AGENT_DEFINITIONS.id
# From here on the turn resolves its agent version first, and the version's limits apply.
AGENT_LIMITS_PATCH = patches.AGENT_LIMITS.id


class TurnGeneration:
    """Agent version, reads, model/tool loop, summary."""

    def _remember(self, entries: list[LearnedEntry]) -> None:
        merged = {entry.tried: entry for entry in [*self._learned, *entries]}
        self._learned = sorted(merged.values(), key=lambda e: (e.tried, e.instead))

    async def _read(self, turn: int, query: str, user: MessageRef, progress: TurnSoFar) -> TurnRead:
        request = TurnReadInput(
            thread=self._thread,
            turn=turn,
            query=query,
            user_message_id=user.id,
            session=self._session,
            graph=workflow.patched(KNOWLEDGE_GRAPH_PATCH),
            learning=workflow.patched(LEARNING_PATCH),
        )
        if self._steps:
            read = await turn_steps.read_at_once(request, local=self._local_steps)
        else:
            read = await turn_steps.read_each_layer(request)
        if read.skills is not None:
            self._task_type = read.skills.task_type
        if read.learned is not None:
            # The cache is the truth at the start of a turn: expired entries drop out here.
            self._learned = []
            self._remember(read.learned.entries)
        progress.manifest = read.manifest()
        progress.billing = read.billing
        self._progress_board.layers_read(read.layers)
        return read

    async def _resolve_agent(self, turn: int, progress: TurnSoFar) -> tuple[AnsweringAgent | None, bool]:
        """The agent version this turn answers as, read once at its start: its limits apply from
        this turn on, and the whole turn (every model call, a failure's record) keeps it."""
        if not workflow.patched(AGENT_LIMITS_PATCH):
            return None, False
        agent = await self._write(
            AgentActivities.answering,
            self._thread.agent,
            name="agents_answering_version",
            summary=f"agents: which version of {self._thread.agent_id} answers turn {turn}",
        )
        self._agent_limits = agent.limits if agent is not None else None
        self._limits = thread_limits(self._start.limits, self._start.limits_set, self._agent_limits)
        if agent is not None:
            progress.agent_version = agent.version
        return agent, True

    async def _generate(
        self,
        turn: int,
        manifest: list[ContextItem],
        user: MessageRef,
        *,
        attempt: str,
        agent: AnsweringAgent | None = None,
        resolved: bool = False,
    ) -> tuple[GenerateOutput, ToolRunner]:
        """The model/tool loop, bounded: the last allowed call gets no tools and must answer."""
        tools = ToolRunner(
            self._session,
            turn,
            command_timeout=timedelta(seconds=self._limits.tool_timeout_seconds),
            on_learned=self._remember,
        )
        tools.agent = agent
        usage = ModelUsage()
        limit = self._limits.max_tool_iterations
        # A turn that resolved its agent and found none answers with the runtime's default all
        # through, even if a definition is saved while it runs.
        use_agent = workflow.patched(AGENT_DEFINITIONS_PATCH) and (agent is not None or not resolved)
        for iteration in range(limit + 1):
            # A correction that arrived since the last call applies from this call on.
            self._turn_corrections += self._pending_corrections
            self._pending_corrections = []
            learned_unchanged = self._learned == self._learned_seen
            self._learned_seen = list(self._learned)
            self._progress_board.step("model_call", str(iteration + 1))
            output = await workflow.execute_activity_method(
                ModelActivities.generate,
                GenerateInput(
                    thread=self._thread,
                    turn=turn,
                    iteration=iteration,
                    attempt_label=attempt,
                    manifest=manifest,
                    user_message_id=user.id,
                    tools_enabled=iteration < limit,
                    tool_calls=tools.calls,
                    tool_results=tools.results,
                    learned=self._learned,
                    learned_unchanged=learned_unchanged,
                    corrections=self._turn_corrections,
                    use_agent=use_agent,
                    agent_version=tools.agent.version if tools.agent else None,
                ),
                summary=f"model: generate reply, turn {turn}" + (f", after {iteration} tool round(s)" if iteration else ""),
                **TURN_MODEL_CALL,
            )
            usage = add_usage(usage, output.usage)
            tools.agent = output.agent
            if not output.tool_calls:
                return output.model_copy(update={"usage": usage}), tools
            for call in output.tool_calls:
                await tools.run(call)
                self._progress_board.step("tool", tools.summaries[-1])
        raise AssertionError("unreachable: the last iteration has no tools")

    async def _summarise(self, *, force: bool) -> None:
        await workflow.execute_activity_method(
            ConversationActivities.summarise,
            SummariseInput(
                thread=self._thread,
                trigger_tokens=self._limits.summary_trigger_tokens,
                keep_tail_messages=self._limits.summary_keep_tail_messages,
                force=force,
            ),
            summary="conversation: fold older messages into the summary" + (" (context overflow)" if force else ""),
            **TURN_MODEL_CALL,
        )
