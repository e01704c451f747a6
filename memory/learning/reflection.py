"""Reflection: after a failed or corrected episode, ask the model what to do differently.

The answer becomes a lesson in the agent-authored skill for the episode's task type;
the caller decides whether that skill may be written (operator skills may not).
"""

from __future__ import annotations

from memory.learning.corrections import StoredCorrection
from memory.llm.base import (
    ChatMessage,
    LLMClient,
    ModelRequest,
    ModelResponse,
    TextBlock,
)
from memory.prompt.assembly import learned_line
from memory.tools.log import LoggedToolCall
from memory.tools.models import ToolStatus

REFLECTION_INSTRUCTIONS = """You review one episode of your own work that failed or that a human
corrected. Write one or two short imperative sentences for your skill document on this
task type: what to do differently next time. Name exact commands where they matter.
Do not restate the episode; write only the lesson."""

_MAX_SUMMARY_CHARS = 3_000


def reflection_prompt(
    *,
    task_type: str,
    outcome: str,
    summary: str,
    corrections: list[StoredCorrection],
    tool_calls: list[LoggedToolCall],
) -> str:
    lines = [f"Task type: {task_type}", f"Outcome: {outcome}", "Summary:", summary[:_MAX_SUMMARY_CHARS].strip()]
    if corrections:
        lines.append("Corrections by a human:")
        lines += [learned_line(c.tried, c.instead, f"operator {c.operator}") for c in corrections]
    failed = [c for c in tool_calls if c.status != ToolStatus.OK]
    if failed:
        lines.append("Tool calls that did not succeed:")
        lines += [f"- failed {c.tool} {c.arguments}: {c.status.value}, {c.output[:300]}" for c in failed]
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
