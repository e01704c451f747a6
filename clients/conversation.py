"""Send a message to a thread's conversation workflow, starting the workflow if needed,
or correct the agent in a running one."""

from __future__ import annotations

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)
from temporalio.service import RPCError, RPCStatusCode

from contract.conversation import (
    ConversationLimits,
    ConversationStart,
    TurnProgress,
    TurnResult,
    UserMessage,
    conversation_workflow_id,
)
from contract.learning import CorrectionReceipt
from contract.names import (
    CONVERSATION_WORKFLOW,
    CORRECT_UPDATE,
    SEND_MESSAGE_UPDATE,
    TASK_QUEUE,
    TURN_PROGRESS_QUERY,
)
from contract.search_attributes import AGENT_ID, TENANT_ID, THREAD_ID
from memory.core.refs import ThreadRef
from memory.core.validation import InvalidInput, check_message
from memory.learning.models import Correction


async def send_message(
    client: Client,
    thread: ThreadRef,
    message: UserMessage,
    *,
    task_queue: str = TASK_QUEUE,
    limits: ConversationLimits | None = None,
    request_id: str | None = None,
    check: bool = True,
    project: str = "default",
) -> TurnResult:
    """One turn. request_id makes a resent request return the first answer (or the first
    failure) instead of a second turn, also after the thread continued as new or closed.

    Raises InvalidInput (a ValueError) before sending anything if the message can never be
    accepted; check=False skips that, to exercise the workflow's own validator.
    """
    limits = limits or ConversationLimits()
    thread, message = _with_user(thread, message)
    if check:
        check_message(message.text, max_chars=limits.max_message_chars)
    start = _start_operation(thread, limits, task_queue, project)
    return await client.execute_update_with_start_workflow(
        SEND_MESSAGE_UPDATE, message, start_workflow_operation=start, id=request_id, result_type=TurnResult
    )


async def start_message(
    client: Client,
    thread: ThreadRef,
    message: UserMessage,
    *,
    request_id: str,
    task_queue: str = TASK_QUEUE,
    limits: ConversationLimits | None = None,
    project: str = "default",
) -> WorkflowUpdateHandle[TurnResult]:
    """Send a message and return once the workflow has accepted it, for a caller that follows
    the turn (turn_progress) while it runs; the handle's result is the turn's."""
    limits = limits or ConversationLimits()
    thread, message = _with_user(thread, message)
    check_message(message.text, max_chars=limits.max_message_chars)
    return await client.start_update_with_start_workflow(
        SEND_MESSAGE_UPDATE,
        message,
        start_workflow_operation=_start_operation(thread, limits, task_queue, project),
        id=request_id,
        wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        result_type=TurnResult,
    )


async def turn_progress(client: Client, thread: ThreadRef) -> TurnProgress:
    """How far the thread's current (or last) turn got, from the workflow itself; turn 0 when
    this run has had no turn yet."""
    handle = client.get_workflow_handle(conversation_workflow_id(thread))
    return await handle.query(TURN_PROGRESS_QUERY, result_type=TurnProgress)


def _start_operation(thread: ThreadRef, limits: ConversationLimits, task_queue: str, project: str) -> WithStartWorkflowOperation:
    return WithStartWorkflowOperation(
        CONVERSATION_WORKFLOW,
        # The fields the caller chose win over the agent's definition; the rest follow it.
        ConversationStart(thread=thread, limits=limits, limits_set=sorted(limits.model_fields_set), project=project),
        id=conversation_workflow_id(thread),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(TENANT_ID, thread.tenant_id),
                SearchAttributePair(AGENT_ID, thread.agent_id),
                SearchAttributePair(THREAD_ID, thread.thread_id),
            ]
        ),
        static_summary=f"Conversation: tenant {thread.tenant_id}, agent {thread.agent_id}, thread {thread.thread_id}",
    )


def _with_user(thread: ThreadRef, message: UserMessage) -> tuple[ThreadRef, UserMessage]:
    """The thread and the message name the same end user (either may carry it)."""
    if thread.user_id and message.user_id and thread.user_id != message.user_id:
        raise InvalidInput(f"the message is from user {message.user_id} but names thread of user {thread.user_id}")
    user = thread.user_id or message.user_id
    return thread.model_copy(update={"user_id": user}), message.model_copy(update={"user_id": user})


class NoRunningConversation(LookupError):
    """The thread's conversation is not running: it finished, or never started."""


async def correct(client: Client, thread: ThreadRef, correction: Correction, *, request_id: str | None = None) -> CorrectionReceipt:
    """Apply a correction to the thread's running conversation. Nothing is recorded when the
    conversation is not running: a correction is for a task in progress."""
    handle = client.get_workflow_handle(conversation_workflow_id(thread))
    try:
        status = (await handle.describe()).status
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        status = None
    if status != WorkflowExecutionStatus.RUNNING:
        state = "never started" if status is None else f"is {status.name.lower().replace('_', ' ')}"
        raise NoRunningConversation(
            f"thread {thread.thread_id} of agent {thread.agent_id} (tenant {thread.tenant_id}) {state}: "
            "a correction applies to a running conversation; nothing was recorded"
        )
    try:
        return await handle.execute_update(
            CORRECT_UPDATE, correction, id=request_id, result_type=CorrectionReceipt
        )
    except RPCError as err:
        # Finished between the check and the update.
        if err.status == RPCStatusCode.NOT_FOUND:
            raise NoRunningConversation(f"thread {thread.thread_id} finished before the correction arrived: {err}") from None
        raise
