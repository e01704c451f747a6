"""The agent's tool registry, as the workflow sees it: tool name -> activity.

Arguments are validated before anything runs; a bad call becomes an error result the
model can read, never a write. Scratch notes are working memory: they live in this
object for one turn and reach no store. A failed command followed by one that worked
is learned as a substitution for the rest of the session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType

with workflow.unsafe.imports_passed_through():
    from activities.agent_models import McpCallInput
    from activities.agents import mcp_activity_name
    from activities.learning import LearningActivities
    from activities.learning_models import (
        LearnInput,
        SessionRef,
        ToolFailureRecord,
        ToolInput,
        ToolOutput,
    )
    from activities.notebook import NotebookActivities
    from activities.tools import ToolActivities
    from activities.turn_models import NotebookEditInput
    from memory.agents.models import AnsweringAgent, McpRoute
    from memory.llm.base import ToolCall, ToolResult
    from memory.prompt.assembly import LearnedEntry
    from memory.tools.arguments import argument_problem
    from memory.tools.models import ToolStatus
    from memory.tools.registry import TOOLS_BY_NAME
    from memory.tools.summary import summarise_call
    from workflows.options import MEMORY_IO, TURN_EMBEDDING_CALL, TURN_HEARTBEAT_TIMEOUT
    from workflows.patches import LEARNING

# Threads started before tools beyond the notebook existed replay without their commands.
LEARNING_PATCH = LEARNING.id


class ToolRunner:
    def __init__(
        self,
        session: SessionRef,
        turn: int,
        *,
        command_timeout: timedelta,
        on_learned: Callable[[list[LearnedEntry]], None] = lambda entries: None,
    ):
        self._session = session
        self._thread = session.thread
        self._turn = turn
        self._command_timeout = command_timeout
        self._on_learned = on_learned
        self.calls: list[ToolCall] = []
        self.results: list[ToolResult] = []
        self._scratch: list[str] = []
        # Commands that failed since the last one that worked.
        self._failed_commands: list[str] = []
        # The defined agent answering this turn, if any: only its tools run.
        self.agent: AnsweringAgent | None = None

    @property
    def used(self) -> list[str]:
        return [call.name for call in self.calls]

    @property
    def summaries(self) -> list[str]:
        return [summarise_call(call.name, call.arguments) for call in self.calls]

    @property
    def unrecovered_failure(self) -> bool:
        return bool(self._failed_commands)

    async def run(self, call: ToolCall) -> None:
        result = await self._dispatch(call)
        self.calls.append(call)
        self.results.append(result)

    async def _dispatch(self, call: ToolCall) -> ToolResult:
        if self.agent is not None:
            if not self.agent.allows(call.name):
                problem = f"agent {self.agent.agent_id} v{self.agent.version} has no tool {call.name!r}"
                await self._record_failure(call, ToolStatus.REJECTED, problem)
                return self._error(call, f"rejected: {problem}")
            if route := self.agent.mcp.get(call.name):
                return await self._mcp_tool(call, route)
        spec = TOOLS_BY_NAME.get(call.name)
        problem = f"unknown tool {call.name!r}" if spec is None else argument_problem(spec, call.arguments)
        if problem:
            if call.name != "scratch_note" and workflow.patched(LEARNING_PATCH):
                await self._record_failure(call, ToolStatus.REJECTED, problem)
            return self._error(call, f"rejected: {problem}" if spec else problem)
        if call.name == "notebook_edit":
            return await self._notebook_edit(call)
        if call.name == "scratch_note":
            self._scratch.append(call.arguments["note"])
            return ToolResult(
                call_id=call.id,
                name=call.name,
                content=f"noted for this turn only ({len(self._scratch)} scratch note(s); never stored)",
            )
        if call.name == "run_command":
            return await self._run_command(call)
        method = ToolActivities.recall_search if call.name == "recall_search" else ToolActivities.load_skill
        output = await workflow.execute_activity_method(
            method,
            self._input(call),
            summary=f"tool {call.name}: turn {self._turn}",
            **(TURN_EMBEDDING_CALL if call.name == "recall_search" else MEMORY_IO),
        )
        return self._result(call, output)

    async def _run_command(self, call: ToolCall) -> ToolResult:
        command = call.arguments["command"]
        try:
            output = await workflow.execute_activity_method(
                ToolActivities.run_command,
                self._input(call),
                summary=f"tool run_command: {command[:80]}",
                start_to_close_timeout=self._command_timeout,
                # A long command whose worker died is given up on when its heartbeats stop.
                heartbeat_timeout=TURN_HEARTBEAT_TIMEOUT,
                # A command is not repeated behind the model's back: a failure is its answer.
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as err:
            lost = isinstance(err.cause, TimeoutError) and err.cause.type == TimeoutType.HEARTBEAT
            timed_out = isinstance(err.cause, TimeoutError) and not lost
            status = ToolStatus.TIMED_OUT if timed_out else ToolStatus.FAILED
            if lost:
                why = "the worker running it stopped responding"
            elif timed_out:
                why = f"cut off after {self._command_timeout.total_seconds():g} s"
            else:
                why = str(err.cause or err)
            await self._record_failure(call, status, why)
            self._failed_commands.append(command)
            return self._error(call, f"failed: {why}")
        if output.learned_hit:
            return self._result(call, output)
        if output.status != ToolStatus.OK:
            self._failed_commands.append(command)
        elif self._failed_commands:
            await self._learn(command, call.name)
        return self._result(call, output)

    async def _mcp_tool(self, call: ToolCall, route: McpRoute) -> ToolResult:
        assert self.agent is not None
        timeout = timedelta(seconds=route.timeout_seconds)
        try:
            output = await workflow.execute_activity(
                mcp_activity_name(route.server, call.name),
                McpCallInput(
                    session=self._session,
                    turn=self._turn,
                    call_id=call.id,
                    agent_version=self.agent.version,
                    tool=call.name,
                    arguments=call.arguments if isinstance(call.arguments, dict) else {},
                ),
                result_type=ToolOutput,
                summary=f"tool {call.name} (MCP server {route.server}): turn {self._turn}",
                start_to_close_timeout=timeout,
                heartbeat_timeout=TURN_HEARTBEAT_TIMEOUT,
                # Like run_command: a tool that may change something is not called again
                # behind the model's back; only one its server marks read-only or idempotent is.
                retry_policy=RetryPolicy(maximum_attempts=3 if route.retry_safe else 1),
            )
        except ActivityError as err:
            lost = isinstance(err.cause, TimeoutError) and err.cause.type == TimeoutType.HEARTBEAT
            timed_out = isinstance(err.cause, TimeoutError) and not lost
            if lost:
                why = "the worker running it stopped responding"
            elif timed_out:
                why = f"cut off after {route.timeout_seconds:g} s"
            else:
                why = str(err.cause or err)
            logged = await self._record_failure(call, ToolStatus.TIMED_OUT if timed_out else ToolStatus.FAILED, why)
            if logged is not None:
                # The call had finished, and was logged, before its worker died: that is its outcome.
                return self._result(call, logged)
            return self._error(call, f"failed: {why}")
        return self._result(call, output)

    async def _learn(self, worked: str, tool: str) -> None:
        learned: list[LearnedEntry] = []
        for tried in dict.fromkeys(self._failed_commands):
            result = await workflow.execute_activity_method(
                LearningActivities.learn,
                LearnInput(session=self._session, tried=tried, instead=worked, tool=tool),
                summary=f"session cache: learn `{tried[:40]}` -> `{worked[:40]}`",
                **MEMORY_IO,
            )
            learned = result.entries
        self._failed_commands.clear()
        self._on_learned(learned)

    async def _record_failure(self, call: ToolCall, status: ToolStatus, output: str) -> ToolOutput | None:
        """Log a call that failed before it answered. Returns the call's own logged outcome if
        it finished after all (its worker died before saying so)."""
        return await workflow.execute_activity_method(
            ToolActivities.record_failure,
            ToolFailureRecord(
                session=self._session,
                turn=self._turn,
                call_id=call.id,
                tool=call.name,
                arguments=call.arguments if isinstance(call.arguments, dict) else {},
                status=status,
                output=output,
            ),
            summary=f"tools: record {status.value} call of {call.name}",
            **MEMORY_IO,
        )

    def _input(self, call: ToolCall) -> ToolInput:
        return ToolInput(session=self._session, turn=self._turn, call_id=call.id, arguments=call.arguments)

    @staticmethod
    def _result(call: ToolCall, output: ToolOutput) -> ToolResult:
        return ToolResult(
            call_id=call.id, name=call.name, content=output.content, is_error=output.status != ToolStatus.OK
        )

    @staticmethod
    def _error(call: ToolCall, content: str) -> ToolResult:
        return ToolResult(call_id=call.id, name=call.name, content=content, is_error=True)

    async def _notebook_edit(self, call: ToolCall) -> ToolResult:
        try:
            edited = await workflow.execute_activity_method(
                NotebookActivities.edit,
                NotebookEditInput(
                    thread=self._thread, turn=self._turn, call_id=call.id, note=call.arguments["note"], author="agent"
                ),
                summary=f"notebook: agent appends a note, turn {self._turn}",
                **MEMORY_IO,
            )
        except ActivityError as err:
            return self._error(call, f"failed: {err.cause}")
        return ToolResult(call_id=call.id, name=call.name, content=f"saved to /notebook.md as version {edited.version}")
