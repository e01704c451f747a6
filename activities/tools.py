"""The agent's tools as activities. Each call is logged (scratch notes excepted: they are
working memory and never leave the workflow)."""

from __future__ import annotations

from temporalio import activity

from activities.heartbeat import heartbeats
from activities.learning_models import (
    SessionRef,
    ToolFailureRecord,
    ToolInput,
    ToolOutput,
)
from activities.tracing import traced
from memory.documents.skills import SkillLibrary
from memory.learning.session_cache import SessionCache, SessionContext
from memory.prompt.untrusted import data_item
from memory.recall.service import RecallMemory
from memory.tools.command_runner import CommandRejected, CommandRunner
from memory.tools.log import MAX_LOGGED_OUTPUT_CHARS, ToolLog
from memory.tools.models import ToolStatus


def session_context(session: SessionRef) -> SessionContext:
    thread = session.thread
    return SessionContext(
        tenant_id=thread.tenant_id, agent_id=thread.agent_id, project=session.project, session_id=thread.thread_id
    )


class ToolActivities:
    def __init__(
        self,
        recall: RecallMemory,
        skills: SkillLibrary,
        session_cache: SessionCache,
        commands: CommandRunner,
        tool_log: ToolLog,
    ):
        self._recall = recall
        self._skills = skills
        self._session_cache = session_cache
        self._commands = commands
        self._tool_log = tool_log

    async def _log(self, request: ToolInput, tool: str, output: ToolOutput) -> ToolOutput:
        await self._tool_log.record(
            request.session.thread,
            turn=request.turn,
            call_id=request.call_id,
            tool=tool,
            arguments=request.arguments,
            status=output.status,
            output=output.content,
        )
        return output

    @activity.defn(name="tool_recall_search")
    @heartbeats
    @traced("recall", "tool_search")
    async def recall_search(self, request: ToolInput) -> ToolOutput:
        thread = request.session.thread
        hits = await self._recall.search(
            thread,
            request.turn,
            request.arguments["query"],
            ledger_key=f"{thread.key}/turn/{request.turn}/tool/{request.call_id}/recall_query",
        )
        # Recalled text is data in a tool result too: quoted, so it cannot pose as instructions.
        content = "\n\n".join(data_item(f"recall:{h.id} | {h.provenance}", h.text) for h in hits) or "no matching memories"
        return await self._log(request, "recall_search", ToolOutput(content=content, status=ToolStatus.OK))

    @activity.defn(name="tool_load_skill")
    @traced("skills", "tool_load")
    async def load_skill(self, request: ToolInput) -> ToolOutput:
        task_type = request.arguments["task_type"]
        skills = await self._skills.load(request.session.thread.agent, task_type)
        if not skills:
            known = ", ".join(await self._skills.task_types(request.session.thread.agent)) or "none yet"
            output = ToolOutput(content=f"no skill for {task_type!r}; known task types: {known}", status=ToolStatus.FAILED)
        else:
            output = ToolOutput(
                content="\n\n".join(data_item(f"skill {s.path} v{s.version}", s.content) for s in skills),
                status=ToolStatus.OK,
            )
        return await self._log(request, "load_skill", output)

    @activity.defn(name="tool_run_command")
    @heartbeats
    @traced("tools", "run_command")
    async def run_command(self, request: ToolInput) -> ToolOutput:
        command = request.arguments["command"]
        learned = await self._session_cache.lookup_command(session_context(request.session), command)
        if learned is not None:
            # Known to fail in this session: say what worked instead rather than fail again.
            output = ToolOutput(
                content=f"not run: in this session `{learned.tried}` was replaced by `{learned.instead}` "
                f"({learned.source.replace('_', ' ')}); run that instead",
                status=ToolStatus.REJECTED,
                learned_hit=True,
            )
            return await self._log(request, "run_command", output)
        thread = request.session.thread
        try:
            outcome = await self._commands.run(f"{thread.tenant_id}/{thread.agent_id}/{thread.thread_id}", command)
        except CommandRejected as err:
            return await self._log(request, "run_command", ToolOutput(content=f"rejected: {err}", status=ToolStatus.REJECTED))
        if outcome.timed_out:
            status = ToolStatus.TIMED_OUT
        else:
            status = ToolStatus.OK if outcome.ok else ToolStatus.FAILED
        text = outcome.stdout if outcome.ok else f"exit {outcome.exit_code}{' (timed out)' if outcome.timed_out else ''}: {outcome.stderr or outcome.stdout}"
        return await self._log(request, "run_command", ToolOutput(content=text or "(no output)", status=status))

    @activity.defn(name="tool_record_failure")
    async def record_failure(self, request: ToolFailureRecord) -> ToolOutput | None:
        """A call refused before it ran, or cut off by its timeout: logged like any other.
        Returns the call's own outcome when it had been logged already (it finished, and its
        worker died before saying so), None otherwise."""
        status, output = await self._tool_log.record(
            request.session.thread,
            turn=request.turn,
            call_id=request.call_id,
            tool=request.tool,
            arguments=request.arguments,
            status=request.status,
            output=request.output,
        )
        if status == request.status and output == request.output[:MAX_LOGGED_OUTPUT_CHARS]:
            return None
        return ToolOutput(content=output, status=status)
