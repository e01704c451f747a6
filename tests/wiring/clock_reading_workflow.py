"""A careless edit to the conversation workflow, in a module of its own so the sandbox can
import it the way it imports the real workflows (a test module's imports it would refuse)."""

from __future__ import annotations

import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contract.conversation import ConversationStart, TurnResult, UserMessage
from workflows.conversation import ConversationWorkflow


@workflow.defn(name="ConversationWorkflow")
class ClockReadingConversationWorkflow(ConversationWorkflow):
    """The turn reads the wall clock instead of workflow.now()."""

    @workflow.update(name="send_message")
    async def send_message(self, message: UserMessage) -> TurnResult:
        datetime.datetime.now()
        return await super().send_message(message)

    @workflow.run
    async def run(self, start: ConversationStart) -> int:
        return await super().run(start)
