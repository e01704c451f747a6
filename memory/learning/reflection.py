"""Reflection: after a failed or corrected episode, ask the model what to do differently.

The model sees what the worker itself recorded: the turn's tool calls and an operator's
corrections. It does not see the episode's summary, which retells the user's own words:
a user must not be able to dictate a lesson. Tool arguments and outputs are flattened to
one line each, so a command's output cannot pose as a correction. The answer is a proposed
lesson that waits for an operator's approval (memory/learning/lesson_review.py).
"""

from __future__ import annotations

from memory.core.refs import ThreadRef
from memory.core.usage import Action, UsageLedger
from memory.learning.corrections import CorrectionLog, StoredCorrection
from memory.learning.episodic import EpisodicMemory
from memory.learning.lesson_review import LessonReview, ProposedLesson
from memory.llm.base import (
    ChatMessage,
    LLMClient,
    ModelRequest,
    ModelResponse,
    TextBlock,
)
from memory.prompt.assembly import learned_line
from memory.prompt.untrusted import one_line
from memory.tools.log import LoggedToolCall, ToolLog
from memory.tools.models import ToolStatus

REFLECTION_INSTRUCTIONS = """You review one episode of your own work that failed or that a human
corrected. Write one or two short imperative sentences for your skill document on this
task type: what to do differently next time. Name exact commands where they matter.
Do not restate the episode; write only the lesson."""

def reflection_prompt(
    *,
    task_type: str,
    outcome: str,
    corrections: list[StoredCorrection],
    tool_calls: list[LoggedToolCall],
) -> str:
    lines = [f"Task type: {task_type}", f"Outcome: {outcome}"]
    if corrections:
        lines.append("Corrections by a human:")
        lines += [learned_line(c.tried, c.instead, f"operator {c.operator}") for c in corrections]
    failed = [c for c in tool_calls if c.status != ToolStatus.OK]
    if failed:
        lines.append("Tool calls that did not succeed:")
        lines += [
            f"- failed {c.tool} {one_line(str(c.arguments))[:300]}: {c.status.value}, {one_line(c.output)[:300]}"
            for c in failed
        ]
    recovered = _recoveries(tool_calls)
    if recovered:
        lines.append("Recovered by retrying:")
        lines += [learned_line(tried, instead, "worked on retry") for tried, instead in recovered]
    return "\n".join(lines)


def _recoveries(calls: list[LoggedToolCall]) -> list[tuple[str, str]]:
    """Each failed command paired with the next command of the turn that succeeded."""
    pairs, failed = [], None
    for call in calls:
        if call.tool != "run_command":
            continue
        command = str(call.arguments.get("command", ""))
        if call.status != ToolStatus.OK:
            failed = failed or command
        elif failed:
            pairs.append((failed, command))
            failed = None
    return pairs


async def reflect(llm: LLMClient, prompt: str) -> ModelResponse:
    return await llm.generate(
        ModelRequest(
            system=[TextBlock(text=REFLECTION_INSTRUCTIONS, cacheable=True)],
            messages=[ChatMessage(role="user", content=prompt)],
            purpose="reflection",
            max_output_tokens=300,
        )
    )


class Reflector:
    """Reflection as an operation: read what the worker recorded of the turn, ask the model,
    bill the call, and propose the lesson for review (once per turn)."""

    def __init__(
        self,
        episodic: EpisodicMemory,
        corrections: CorrectionLog,
        tool_log: ToolLog,
        llm: LLMClient,
        ledger: UsageLedger,
        lessons: LessonReview,
    ) -> None:
        self._episodic = episodic
        self._corrections = corrections
        self._tool_log = tool_log
        self._llm = llm
        self._ledger = ledger
        self._lessons = lessons

    async def propose_lesson(self, thread: ThreadRef, turn: int, episode_id: int) -> ProposedLesson:
        [episode] = await self._episodic.by_id(thread.agent, [episode_id])
        prompt = reflection_prompt(
            task_type=episode.task_type,
            outcome=episode.outcome,
            corrections=await self._corrections.for_turn(thread, turn),
            tool_calls=await self._tool_log.for_turn(thread, turn),
        )
        key = f"{thread.key}/turn/{turn}/reflection"
        response = await reflect(self._llm, prompt)
        await self._ledger.record_response(key, thread, Action.SKILL_REFLECTION, response)
        lesson = " ".join(response.text.split())
        # A proposal only: it reaches the skill when an operator approves it.
        return await self._lessons.propose(thread, turn, episode.id, episode.task_type, lesson, idempotency_key=key)
