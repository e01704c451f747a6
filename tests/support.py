"""Test doubles for the external model API only, and fault injectors for acknowledgements and stores."""

from __future__ import annotations

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartChildWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from memory.llm.base import ModelRequest, ModelResponse
from memory.llm.offline import OfflineModel


class RecordingModel(OfflineModel):
    """The offline model, keeping every request it was sent."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.requests: list[ModelRequest] = []

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return await super().generate(request)


class ScriptedFailures(OfflineModel):
    """Raises the given exceptions on the first calls, then answers like the offline model.
    Only the conversation's own calls (the agent's turns and the thread summary) count and
    fail: background work (episode summaries, reflection) runs at times a test cannot pin."""

    COUNTED = ("agent_turn", "summary")

    def __init__(self, failures: list[Exception], **kwargs):
        super().__init__(**kwargs)
        self.failures = list(failures)
        self.calls = 0

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if request.purpose not in self.COUNTED:
            return await super().generate(request)
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return await super().generate(request)


class LoseFirstAcknowledgement(Interceptor):
    """The named activities run for real, then their first attempt reports failure,
    as if the worker died after the write committed but before Temporal heard back."""

    def __init__(self, activity_names: set[str]):
        self.activity_names = activity_names
        self.lost: list[str] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _LoseFirst(next, self)


class _LoseFirst(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: LoseFirstAcknowledgement):
        super().__init__(next)
        self._owner = owner

    async def execute_activity(self, input: ExecuteActivityInput):
        result = await super().execute_activity(input)
        info = activity.info()
        if info.activity_type in self._owner.activity_names and info.attempt == 1:
            self._owner.lost.append(info.activity_type)
            raise RuntimeError(f"acknowledgement of {info.activity_type} lost (injected)")
        return result


class ChildWorkflowRecorder(Interceptor):
    """Notes the id of every child workflow the worker's workflows start, so a test can
    let them finish before its worker stops (an orphaned workflow task would hold the
    time-skipping server's clock still for every later test)."""

    def __init__(self) -> None:
        self.children: set[str] = set()
        self.parents: set[str] = set()

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions["record_child_workflow"] = self._record
        return _RecordChildrenInbound

    def _record(self, parent_id: str, child_id: str) -> None:
        self.parents.add(parent_id)
        self.children.add(child_id)


class _RecordChildrenInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_RecordChildrenOutbound(outbound))


class _RecordChildrenOutbound(WorkflowOutboundInterceptor):
    async def start_child_workflow(self, input: StartChildWorkflowInput):
        workflow.extern_functions()["record_child_workflow"](workflow.info().workflow_id, input.id)
        return await super().start_child_workflow(input)


class StoreDown(Interceptor):
    """The named activities fail every attempt without running, as if their store stayed down
    for longer than their retries last. The failure is final at once, so a test need not
    wait the retries out; the workflow sees what it sees when they run out."""

    def __init__(self, activity_names: set[str]):
        self.activity_names = activity_names
        self.failed: list[str] = []

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _StoreDown(next, self)


class _StoreDown(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: StoreDown):
        super().__init__(next)
        self._owner = owner

    async def execute_activity(self, input: ExecuteActivityInput):
        name = activity.info().activity_type
        if name in self._owner.activity_names:
            self._owner.failed.append(name)
            raise ApplicationError("connection refused: is the database running? (injected)", non_retryable=True)
        return await super().execute_activity(input)
