"""The turn's writes and records, as ConversationWorkflow runs them: its short local writes,
the turn record, a failed turn's audit, and the knowledge ingestion started after the reply.
A mixin of the workflow: the state it reads and writes is the workflow's own."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, NoReturn, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.conversation import ConversationActivities
    from activities.recall import RecallActivities
    from activities.turn_models import (
        AppendMessageInput,
        GenerateOutput,
        MessageRef,
        RecallWriteInput,
        TurnRecordInput,
    )
    from activities.turns import TurnActivities
    from contract.conversation import (
        TurnResult,
        UserMessage,
    )
    from contract.ingestion import ExchangeIngestion
    from memory.core.usage_entry import UsageEntry
    from memory.llm.base import ModelUsage
    from memory.prompt.manifest import ContextItem
    from workflows import patches
    from workflows.local_activity import run_local
    from workflows.options import (
        LOCAL_STORE_WRITE,
        MEMORY_IO,
        TURN_EMBEDDING_CALL,
    )
    from workflows.turn_outcome import reason
    from workflows.turn_progress import TurnSoFar

# What each flag changes, and which recorded histories still need its old branch: workflows/patches.py.
KNOWLEDGE_GRAPH_PATCH = patches.KNOWLEDGE_GRAPH.id
TURN_DURABILITY_PATCH = patches.TURN_DURABILITY.id

Request = TypeVar("Request")
Result = TypeVar("Result")


class TurnRecords:
    """Local writes, turn records, failure audit, ingestion starts."""

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
