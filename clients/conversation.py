"""Send a message to a thread's conversation workflow, starting the workflow if needed."""

from __future__ import annotations

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from memory.refs import ThreadRef
from memory.validation import check_message
from stack.search_attributes import AGENT_ID, TENANT_ID, THREAD_ID
from workflows.conversation import ConversationWorkflow
from workflows.models import (
    TASK_QUEUE,
    ConversationLimits,
    ConversationStart,
    TurnResult,
    UserMessage,
    conversation_workflow_id,
)


async def send_message(
    client: Client,
    thread: ThreadRef,
    message: UserMessage,
    *,
    task_queue: str = TASK_QUEUE,
    limits: ConversationLimits | None = None,
    request_id: str | None = None,
    check: bool = True,
) -> TurnResult:
    """One turn. request_id makes a resent request return the first answer instead of a second turn.

    Raises InvalidInput (a ValueError) before sending anything if the message can never be
    accepted; check=False skips that, to exercise the workflow's own validator.
    """
    limits = limits or ConversationLimits()
    if check:
        check_message(message.text, max_chars=limits.max_message_chars)
    start = WithStartWorkflowOperation(
        ConversationWorkflow.run,
        ConversationStart(thread=thread, limits=limits),
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
    return await client.execute_update_with_start_workflow(
        ConversationWorkflow.send_message, message, start_workflow_operation=start, id=request_id
    )
