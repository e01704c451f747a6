"""One long-lived workflow per thread. Each user message arrives as an Update and
runs one turn as a sequence of memory activities; the caller gets the reply back.

State is a turn counter and flags; the transcript lives in the stores and travels
through history only as ids and the new messages of each turn.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

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
    from activities.conversation import ConversationActivities
    from activities.learning import LearningActivities
    from activities.learning_models import CorrectionInput, SessionRef
    from activities.turn_models import (
        AppendMessageInput,
        MessageRef,
    )
    from activities.turn_step_models import TurnCommitInput
    from contract.conversation import (
        ConversationLimits,
        ConversationStart,
        TurnProgress,
        TurnResult,
        UserMessage,
        thread_limits,
    )
    from contract.learning import CorrectionReceipt
    from memory.conversation.thread_users import mismatch as thread_user_mismatch
    from memory.core.validation import InvalidInput, check_message
    from memory.learning.models import Correction
    from memory.prompt.assembly import CorrectionEntry, LearnedEntry
    from workflows import patches, turn_steps
    from workflows.ingestion_launcher import IngestionLauncher
    from workflows.options import MEMORY_IO
    from workflows.turn_generation import TurnGeneration
    from workflows.turn_outcome import (
        answer_again,
        details,
        is_context_overflow,
    )
    from workflows.turn_progress import ProgressBoard, TurnSoFar
    from workflows.turn_records import TurnRecords

# What each flag changes, and which recorded histories still need its old branch: workflows/patches.py.
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
THREAD_USERS_PATCH = patches.THREAD_USERS.id
# From here on the turn's read and commit steps run as local activities.
TURN_LOCAL_STEPS_PATCH = patches.TURN_LOCAL_STEPS.id


@workflow.defn(name=CONVERSATION_WORKFLOW)
class ConversationWorkflow(TurnGeneration, TurnRecords):
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
        if self._local_steps and workflow.patched(patches.AGENT_AND_READ_TOGETHER.id):
            # Neither needs the other: both are read-only local activities, run in one go.
            (agent, resolved), read = await asyncio.gather(
                self._resolve_agent(turn, progress), self._read(turn, message.text, user, progress)
            )
        else:
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
                    user_text=message.text,
                    user_sent_at=user.created_at,
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
