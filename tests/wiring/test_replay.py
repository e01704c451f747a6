"""Every recorded history must replay under the current workflow code.

Regenerate with `uv run python -m tests.histories.regenerate` after a deliberate,
versioned change; a failure here means a change would break running conversations.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from contract.conversation import ConversationStart, TurnResult, UserMessage
from tests.wiring.clock_reading_workflow import ClockReadingConversationWorkflow
from wiring.plugin import MemoryWorkerPlugin, workflow_runner
from workflows.conversation import ConversationWorkflow

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


def test_there_are_recorded_histories():
    assert any("continued_as_new" in path.name for path in HISTORIES)


@pytest.mark.parametrize("sandboxed", [False, True], ids=["as-the-worker-runs", "in-the-sandbox"])
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path, sandboxed: bool):
    # The worker's own plugin: the same workflows, converter and interceptors. The worker runs
    # workflows outside the SDK's sandbox by default (WORKFLOW_SANDBOX); replaying inside it
    # too is what catches workflow code that reads the clock, random or does I/O.
    replayer = Replayer(workflows=[], plugins=[MemoryWorkerPlugin(sandboxed=sandboxed)])
    await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))


async def test_replay_in_the_sandbox_catches_a_wall_clock_read():
    path = next(p for p in HISTORIES if "continued_as_new" in p.name)
    def replayer(sandboxed: bool) -> Replayer:
        return Replayer(
            workflows=[ClockReadingConversationWorkflow],
            data_converter=pydantic_data_converter,
            workflow_runner=workflow_runner(sandboxed),
        )

    # The worker's default runner would replay this without complaint: the sandbox refuses it.
    await replayer(False).replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
    with pytest.raises(Exception, match="datetime"):
        await replayer(True).replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))


@workflow.defn(name="ConversationWorkflow", sandboxed=False)
class ReorderedConversationWorkflow(ConversationWorkflow):
    """A careless edit: the turn now reads the notebook before storing the user message."""

    @workflow.update(name="send_message")
    async def send_message(self, message: UserMessage) -> TurnResult:
        await workflow.execute_activity("notebook_read", {"agent": self._thread.agent.model_dump()}, start_to_close_timeout=timedelta(seconds=10))
        return await super().send_message(message)

    @workflow.run
    async def run(self, start: ConversationStart) -> int:
        return await super().run(start)


async def test_a_nondeterministic_change_is_caught():
    path = next(p for p in HISTORIES if "continued_as_new" in p.name)
    replayer = Replayer(workflows=[ReorderedConversationWorkflow], data_converter=pydantic_data_converter)
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(WorkflowHistory.from_json(path.stem, path.read_text()))
