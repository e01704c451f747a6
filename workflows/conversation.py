"""One long-lived workflow per thread. Each user message arrives as an Update and
runs one turn as a sequence of memory activities; the caller gets the reply back.

State is a turn counter and flags; the transcript lives in the stores and travels
through history only as ids and the new messages of each turn.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Awaitable, Callable, NoReturn, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from contract.names import (
    CONVERSATION_WORKFLOW,
    CORRECT_UPDATE,
    LAST_TURN_QUERY,
    SEND_MESSAGE_UPDATE,
    TURN_PROGRESS_QUERY,
)

with workflow.unsafe.imports_passed_through():
    from activities.agents import AgentActivities
    from activities.conversation import ConversationActivities
    from activities.learning import LearningActivities
    from activities.learning_models import CorrectionInput, SessionRef
    from activities.model_call import ModelActivities
    from activities.recall import RecallActivities
    from activities.turn_models import (
        AppendMessageInput,
        GenerateInput,
        GenerateOutput,
        MessageRef,
        RecallWriteInput,
        SummariseInput,
        TurnRecordInput,
    )
    from activities.turn_step_models import TurnCommitInput, TurnRead, TurnReadInput
    from activities.turns import TurnActivities
    from contract.conversation import (
        ConversationLimits,
        ConversationStart,
        TurnProgress,
        TurnResult,
        UserMessage,
        thread_limits,
    )
    from contract.ingestion import ExchangeIngestion
    from contract.learning import CorrectionReceipt
    from memory.agents.models import AnsweringAgent
    from memory.conversation.thread_users import mismatch as thread_user_mismatch
    from memory.core.usage_entry import UsageEntry
    from memory.core.validation import InvalidInput, check_message
    from memory.learning.models import Correction
    from memory.llm.base import ModelUsage
    from memory.prompt.assembly import CorrectionEntry, LearnedEntry
    from memory.prompt.manifest import ContextItem
    from workflows import patches, turn_steps
    from workflows.ingestion_launcher import IngestionLauncher
    from workflows.local_activity import run_local
    from workflows.options import (
        LOCAL_STORE_WRITE,
        MEMORY_IO,
        TURN_EMBEDDING_CALL,
        TURN_MODEL_CALL,
    )
    from workflows.tools import LEARNING_PATCH, ToolRunner
    from workflows.turn_outcome import (
        add_usage,
        answer_again,
        details,
        is_context_overflow,
        reason,
    )
    from workflows.turn_progress import ProgressBoard, TurnSoFar

# What each flag changes, and which recorded histories still need its old branch: workflows/patches.py.
KNOWLEDGE_GRAPH_PATCH = patches.KNOWLEDGE_GRAPH.id
TURN_DURABILITY_PATCH = patches.TURN_DURABILITY.id
LOCAL_WRITES_PATCH = patches.LOCAL_WRITES.id
TURN_STEPS_PATCH = patches.TURN_STEPS.id
# The turn's steps that run as local activities (on the patches above): only the model call
# and tools go through the server.
TURN_LOCAL_ACTIVITIES = (
    "conversation_append_message",
    "turn_record",
    "agents_answering_version",
    "turn_read",
    "turn_commit",
)
# From here on a turn answers as the thread's agent as its operator defined it (when it is):
# the model call resolves the version, and the turn keeps that version, its tools and its reads.
AGENT_DEFINITIONS_PATCH = patches.AGENT_DEFINITIONS.id
# From here on the turn resolves its agent version first, and the version's limits apply.
AGENT_LIMITS_PATCH = patches.AGENT_LIMITS.id
THREAD_USERS_PATCH = patches.THREAD_USERS.id
# From here on the turn's read and commit steps run as local activities.
TURN_LOCAL_STEPS_PATCH = patches.TURN_LOCAL_STEPS.id

Request = TypeVar("Request")
Result = TypeVar("Result")


@workflow.defn(name=CONVERSATION_WORKFLOW)
class ConversationWorkflow:
    @workflow.init
    def __init__(self, start: ConversationStart) -> None:
        self._start = start
        self._thread = start.thread
        # The limits in force: the thread's own, under which the agent's definition fills in
        # what the caller left to it (from the first turn that resolves the agent).
        self._limits: ConversationLimits = thread_limits(start.limits, start.limits_set, start.agent_limits)
        self._agent_limits = start.agent_limits
        self._last_turn = start.last_turn
        self._turn_lock = asyncio.Lock()
        self._summary_due = False
        self._turns_this_run = 0
        self._ingestions = IngestionLauncher()
        self._session = SessionRef(thread=start.thread, project=start.project)
        # Corrections wait here until a model call has seen them; then they count for
        # the turn that applied them.
        self._pending_corrections: list[CorrectionEntry] = list(start.pending_corrections)
        self._turn_corrections: list[CorrectionEntry] = []
        # What this session learned, as of the last lookup or recovery, and the set the
        # previous model call saw (for the prompt cache).
        self._learned: list[LearnedEntry] = []
        self._learned_seen: list[LearnedEntry] | None = None
        self._task_type = "general"
        # The update id of the running turn: its request id.
        self._request_id: str | None = None
        self._local_writes = False
        self._steps = False
        self._local_steps = False
        # Why this run takes no message: the thread belongs to another user (or to none).
        self._refusal: str | None = None
        # Workflow state only, read by the progress query: it adds no command to history.
        self._progress_board = ProgressBoard()

    @workflow.run
    async def run(self, start: ConversationStart) -> int:
        if self._last_turn is None and workflow.patched(THREAD_USERS_PATCH):
            try:
                await workflow.execute_activity_method(
                    ConversationActivities.claim_user,
                    self._thread,
                    summary="conversation: the end user this thread belongs to",
                    **MEMORY_IO,
                )
            except ActivityError as err:
                # Refused before anything is stored: the waiting message gets the reason, and the
                # run ends without a turn.
                cause = err.cause
                self._refusal = cause.message if isinstance(cause, ApplicationError) else str(err)
                await workflow.wait_condition(workflow.all_handlers_finished)
                return 0
        if self._last_turn is None:
            self._last_turn = await workflow.execute_activity_method(
                ConversationActivities.open, self._thread, summary="conversation: find last stored turn", **MEMORY_IO
            )
        for request in start.pending_ingestions:
            self._ingestions.launch(request)
        if start.last_turn is not None:
            # A continued run has no static summary of its own; say what it is here.
            workflow.set_current_details(f"Conversation continued after turn {start.last_turn}; waiting for messages.")
        while True:
            turns_before = self._turns_this_run
            try:
                await workflow.wait_condition(
                    lambda: self._summary_due or self._should_continue_as_new(),
                    timeout=timedelta(hours=self._limits.idle_timeout_hours),
                    timeout_summary="thread idle: close",
                )
            except asyncio.TimeoutError:
                busy = self._turn_lock.locked() or not workflow.all_handlers_finished()
                if busy or self._turns_this_run != turns_before:
                    continue
                await self._settle()
                if self._turns_this_run != turns_before:
                    continue  # a message arrived while the last ingestion was being started
                return self._last_turn
            if self._summary_due:
                async with self._turn_lock:
                    self._summary_due = False
                    await self._summarise(force=False)
                continue
            await workflow.wait_condition(workflow.all_handlers_finished)
            if not self._should_continue_as_new():
                continue  # the message that woke us was a resend answered from the store: no turn ran
            workflow.continue_as_new(
                start.model_copy(
                    update={
                        "last_turn": self._last_turn,
                        "pending_ingestions": list(self._ingestions.unstarted.values()),
                        "pending_corrections": self._pending_corrections,
                        "agent_limits": self._agent_limits,
                    }
                )
            )

    def _should_continue_as_new(self) -> bool:
        return (
            workflow.info().is_continue_as_new_suggested()
            or self._turns_this_run >= self._limits.max_turns_per_run
        )

    @workflow.query(name=TURN_PROGRESS_QUERY, description="How far the current (or last) turn of this run got.")
    def turn_progress(self) -> TurnProgress:
        return self._progress_board.current

    @workflow.query(name=LAST_TURN_QUERY, description="The last turn number of this thread.")
    def last_turn(self) -> int:
        return self._last_turn or 0

    @workflow.update(
        name=SEND_MESSAGE_UPDATE,
        description="Send one user message; returns the agent's reply and its context manifest.",
    )
    async def send_message(self, message: UserMessage) -> TurnResult:
        await workflow.wait_condition(lambda: self._last_turn is not None or self._refusal is not None)
        if self._refusal is not None:
            raise ApplicationError(self._refusal, type="InvalidInput", non_retryable=True)
        async with self._turn_lock:
            self._last_turn += 1
            self._turns_this_run += 1
            return await self._run_turn(self._last_turn, message)

    @send_message.validator
    def _validate_message(self, message: UserMessage) -> None:
        # A rejected update leaves no trace in history and writes nothing anywhere.
        try:
            check_message(message.text, max_chars=self._limits.max_message_chars)
            if message.user_id != self._thread.user_id:
                raise thread_user_mismatch(self._thread.model_copy(update={"user_id": message.user_id}), self._thread.user_id)
        except InvalidInput as err:
            raise ApplicationError(str(err), type="InvalidInput", non_retryable=True) from None

    @workflow.update(
        name=CORRECT_UPDATE,
        description="Correct the agent: 'you tried X, do Y instead'. Applied to the running task "
        "(or the next turn), recorded, and learned for the rest of this session.")
    async def correct(self, correction: Correction) -> CorrectionReceipt:
        await workflow.wait_condition(lambda: self._last_turn is not None)
        running = self._turn_lock.locked()
        update_id = workflow.current_update_info().id
        receipt = await workflow.execute_activity_method(
            LearningActivities.record_correction,
            CorrectionInput(
                session=self._session,
                turn=self._last_turn if running else self._last_turn + 1,
                correction=correction,
                request_id=update_id,
            ),
            summary=f"corrections: record and learn a correction by {correction.operator}",
            **MEMORY_IO,
        )
        entry = CorrectionEntry(tried=correction.tried, instead=correction.instead, operator=correction.operator)
        self._pending_corrections.append(entry)
        self._remember([LearnedEntry(tried=entry.tried, instead=entry.instead, source="correction")])
        return receipt.model_copy(update={"turn_running": running})

    def _remember(self, entries: list[LearnedEntry]) -> None:
        merged = {entry.tried: entry for entry in [*self._learned, *entries]}
        self._learned = sorted(merged.values(), key=lambda e: (e.tried, e.instead))

    async def _run_turn(self, turn: int, message: UserMessage) -> TurnResult:
        thread = self._thread
        durable = workflow.patched(TURN_DURABILITY_PATCH)
        self._request_id = workflow.current_update_info().id if durable else None
        self._local_writes = workflow.patched(LOCAL_WRITES_PATCH)
        self._steps = workflow.patched(TURN_STEPS_PATCH)
        self._local_steps = self._steps and workflow.patched(TURN_LOCAL_STEPS_PATCH)
        user = await self._write(
            ConversationActivities.append_message,
            AppendMessageInput(thread=thread, turn=turn, role="user", content=message.text, request_id=self._request_id),
            name="conversation_append_message",
            summary=f"conversation: append user message, turn {turn}",
        )
        if user.earlier is not None:
            # A resend of a request an earlier run took: nothing was stored under this turn's
            # number, so the next message gets it.
            self._last_turn -= 1
            self._turns_this_run -= 1
            return answer_again(user.earlier)
        update = workflow.current_update_info()
        self._progress_board.begin(turn, update.id if update else None)
        progress = TurnSoFar()
        if not durable:
            return await self._answer(turn, message, user, progress)
        try:
            return await self._answer(turn, message, user, progress)
        except ActivityError as err:
            # A store that stayed down, not only the model: the user message is stored, so the
            # turn is recorded as failed and its exchange ingested like any failed turn.
            await self._fail(turn, message, user, progress, err, f"{err.activity_type} did not succeed: ")

    async def _answer(self, turn: int, message: UserMessage, user: MessageRef, progress: TurnSoFar) -> TurnResult:
        self._turn_corrections = []
        agent, resolved = await self._resolve_agent(turn, progress)
        read = await self._read(turn, message.text, user, progress)
        try:
            reply, tools = await self._generate(turn, progress.manifest, user, attempt="first", agent=agent, resolved=resolved)
        except ActivityError as err:
            if not is_context_overflow(err):
                await self._fail(turn, message, user, progress, err, "")
            # Not retried blindly: fold the thread into its summary, then exactly one more try.
            await self._summarise(force=True)
            read = await self._read(turn, message.text, user, progress)
            try:
                reply, tools = await self._generate(
                    turn, progress.manifest, user, attempt="after-summary", agent=agent, resolved=resolved
                )
            except ActivityError as retry_err:
                await self._fail(
                    turn, message, user, progress, retry_err, "the context does not fit even after summarising: "
                )
        if reply.agent is not None:
            progress.agent_version = reply.agent.version
            # What the model saw: the layers this agent does not read were left out.
            progress.manifest = [item for item in progress.manifest if item.layer in reply.agent.reads]
        outcome = "corrected" if self._turn_corrections else "failed" if tools.unrecovered_failure else "succeeded"
        manifest = progress.manifest
        result = TurnResult(
            reply=reply.text,
            workflow_id=workflow.info().workflow_id,
            turn=turn,
            manifest=manifest,
            usage=reply.usage,
            provider=reply.provider,
            model=reply.model,
            tools_used=tools.used,
            tool_calls=tools.summaries,
            user_message_id=user.id,
            assistant_message_id=0,  # the reply's message id, known once it is stored
            task_type=self._task_type,
            outcome=outcome,
            corrections_applied=len(self._turn_corrections),
            agent_version=reply.agent.version if reply.agent else None,
        )
        if self._steps:
            committed = await turn_steps.commit(
                TurnCommitInput(
                    thread=self._thread,
                    turn=turn,
                    user_message_id=user.id,
                    reply=reply.text,
                    manifest=manifest,
                    usage=reply.usage,
                    request_id=self._request_id,
                    result=result,
                    billing=progress.billing,
                ),
                local=self._local_steps,
            )
            assistant = committed.assistant
            result = TurnResult.model_validate(committed.result)
        else:
            assistant = await self._store_reply_each_step(turn, user, reply, progress, result)
            result = result.model_copy(update={"assistant_message_id": assistant.id})
            await self._record(turn, "completed", user.id, assistant.id, manifest, reply.usage, result=result)
        self._start_ingestion(turn, message, user.id, assistant.id, outcome=outcome, tools_used=tools.used)
        if read.conversation.tail_tokens + user.tokens + assistant.tokens > self._limits.summary_trigger_tokens:
            self._summary_due = True
        workflow.set_current_details(details(turn, manifest, reply, read.layers))
        self._progress_board.show(stage="done", result=result)
        return result

    async def _store_reply_each_step(
        self, turn: int, user: MessageRef, reply: GenerateOutput, progress: TurnSoFar, result: TurnResult
    ) -> MessageRef:
        """The reply and its recall exchange as separate activities, as turns did before the commit step."""
        assistant = await self._write(
            ConversationActivities.append_message,
            AppendMessageInput(thread=self._thread, turn=turn, role="assistant", content=reply.text),
            name="conversation_append_message",
            summary=f"conversation: append assistant reply, turn {turn}",
        )
        progress.assistant_id = assistant.id
        await workflow.execute_activity_method(
            RecallActivities.write,
            RecallWriteInput(thread=self._thread, turn=turn, user_message_id=user.id, assistant_message_id=assistant.id),
            summary=f"recall: store exchange of turn {turn}",
            **TURN_EMBEDDING_CALL,
        )
        return assistant

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

    async def _fail(
        self, turn: int, message: UserMessage, user: MessageRef, progress: TurnSoFar, err: ActivityError, why: str
    ) -> NoReturn:
        """Record the failed turn for audit, then fail the update (not the thread) with the cause."""
        text = f"turn {turn} failed: {why}{reason(err)}"
        self._progress_board.show(stage="failed")
        manifest, assistant_id = progress.manifest, progress.assistant_id
        if not workflow.patched(TURN_DURABILITY_PATCH):
            await self._record(turn, "failed", user.id, None, manifest, ModelUsage())
            self._start_ingestion(turn, message, user.id, None, outcome="failed", tools_used=[])
            raise ApplicationError(f"turn {turn} failed: {why}{err.cause or err}", type="TurnFailed") from err
        try:
            await self._record(
                turn,
                "failed",
                user.id,
                assistant_id,
                manifest,
                ModelUsage(),
                error=text,
                billing=progress.billing,
                agent_version=progress.agent_version,
            )
        except ActivityError as record_err:
            # Likely the same store that failed the turn, still down: the caller learns what
            # failed the turn all the same, and that it went unrecorded.
            text += f"; recording the failure did not succeed either: {reason(record_err)}"
        self._start_ingestion(turn, message, user.id, assistant_id, outcome="failed", tools_used=[], turn_failed=True)
        raise ApplicationError(text, type="TurnFailed") from err

    def _start_ingestion(
        self,
        turn: int,
        message: UserMessage,
        user_id: int,
        assistant_id: int | None,
        *,
        outcome: str,
        tools_used: list[str],
        turn_failed: bool = False,
    ) -> None:
        """Start the turn's knowledge ingestion without waiting for it: the reply goes first."""
        if not workflow.patched(KNOWLEDGE_GRAPH_PATCH):
            return
        request = ExchangeIngestion(
            thread=self._thread,
            turn=turn,
            user_message_id=user_id,
            assistant_message_id=assistant_id,
            message_chars=len(message.text),
            turn_failed=turn_failed or assistant_id is None,
            delegated=message.delegated,
            outcome=outcome,
            tools_used=tools_used,
            task_type=self._task_type,
        )
        self._ingestions.launch(request)

    async def _settle(self) -> None:
        """Wait until no turn is running and every ingestion child a turn asked for has started."""
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() and not self._ingestions.unstarted)

    async def _record(
        self,
        turn: int,
        status: str,
        user_id: int | None,
        assistant_id: int | None,
        manifest: list[ContextItem],
        usage: ModelUsage,
        *,
        result: TurnResult | None = None,
        error: str | None = None,
        billing: list[UsageEntry] | None = None,
        agent_version: int | None = None,
    ) -> None:
        await self._write(
            TurnActivities.record,
            TurnRecordInput(
                thread=self._thread,
                turn=turn,
                status=status,
                user_message_id=user_id,
                assistant_message_id=assistant_id,
                manifest=manifest,
                usage=usage,
                request_id=self._request_id,
                result=result.model_dump(mode="json") if result else None,
                error=error,
                agent_version=result.agent_version if result else agent_version,
                billing=billing or [],
            ),
            name="turn_record",
            summary=f"turns: record manifest of turn {turn} ({status})",
        )

    async def _write(
        self, activity: Callable[[Any, Request], Awaitable[Result]], request: Request, *, name: str, summary: str
    ) -> Result:
        """One of the turn's short store writes; every write is idempotent by key."""
        if not self._local_writes:
            return await workflow.execute_activity_method(activity, request, summary=summary, **MEMORY_IO)
        return await run_local(activity, request, name=name, summary=summary, config=LOCAL_STORE_WRITE)
