"""A deterministic stand-in for a language model, used when no API key is configured.

It is not a language model and says so in every reply. It reports what context it
received (so memory can be seen working end to end), follows one explicit command
(a message beginning "remember:" makes it call the notebook_edit tool), and refuses a
prompt larger than its configured window exactly as a provider would.
"""

from __future__ import annotations

import re

from memory.context import NOTEBOOK_HEADER, SUMMARY_HEADER
from memory.llm.base import ContextWindowExceeded, ModelRequest, ModelResponse, ModelUsage, ToolCall
from memory.tokens import estimate_tokens

LABEL = "[offline model: no language model configured]"
SUMMARY_LABEL = "[offline summary]"
REMEMBER = re.compile(r"^\s*remember:\s*(?P<note>.+)$", re.IGNORECASE | re.DOTALL)
_RECALL_ITEM = re.compile(r"^\[recall:(?P<id>\d+) \| (?P<source>[^|]+?) \|[^\]]*\]\n(?P<text>.*?)(?=\n\n\[recall:|\Z)", re.M | re.S)
_GRAPH_FACT = re.compile(r"^\[graph:(?P<uuid>[^ ]+) \|[^\]]*\]\n(?P<fact>[^\n]*)", re.M)
_NOTEBOOK_VERSION = re.compile(r"^\[notebook /notebook\.md v(?P<version>\d+)", re.M)


def _clip(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class OfflineModel:
    provider = "offline"
    model = "offline-deterministic-v1"

    def __init__(self, context_window_tokens: int = 200_000):
        self.context_window_tokens = context_window_tokens

    async def generate(self, request: ModelRequest) -> ModelResponse:
        prompt_tokens = sum(estimate_tokens(b.text) for b in request.system) + sum(
            estimate_tokens(m.content) for m in request.messages
        )
        if prompt_tokens > self.context_window_tokens:
            raise ContextWindowExceeded(
                f"prompt is too long: {prompt_tokens} tokens > {self.context_window_tokens} maximum (offline model)"
            )
        tool_calls: list[ToolCall] = []
        if request.purpose == "summary":
            text = self._summarise(request)
        elif request.tool_results:
            text = LABEL + " " + " ".join(
                f"{'Tool failed' if r.is_error else 'Done'} ({r.name}): {_clip(r.content)}" for r in request.tool_results
            )
        elif (match := REMEMBER.match(request.messages[-1].content)) and request.tools:
            text = ""
            tool_calls = [ToolCall(id="offline-call-1", name="notebook_edit", arguments={"note": match["note"].strip()})]
        else:
            text = self._describe(request)
        return ModelResponse(
            text=text,
            tool_calls=tool_calls,
            usage=ModelUsage(input_tokens=prompt_tokens, output_tokens=estimate_tokens(text)),
            provider=self.provider,
            model=self.model,
            stop_reason="tool_use" if tool_calls else "end_turn",
        )

    def _summarise(self, request: ModelRequest) -> str:
        body = request.messages[-1].content
        # Its own replies (every line of them) carry no information about the user's world.
        lines, own_reply = [], False
        for line in body.splitlines():
            if line.startswith(("user:", "assistant:")):
                own_reply = LABEL in line
            if line.strip() and not own_reply and LABEL not in line:
                lines.append(_clip(line, 200))
        return SUMMARY_LABEL + "\n" + "\n".join(lines[-40:])

    def _describe(self, request: ModelRequest) -> str:
        system = "\n\n".join(b.text for b in request.system)
        user = request.messages[-1].content
        earlier = request.messages[:-1]
        recalled = list(_RECALL_ITEM.finditer(system))
        received: list[str] = []
        if (nb := _NOTEBOOK_VERSION.search(system)) and NOTEBOOK_HEADER in system:
            received.append(f"notebook v{nb['version']}")
        if facts := _GRAPH_FACT.findall(system):
            received.append(f"{len(facts)} graph fact(s)")
        if recalled:
            refs = ", ".join(f"recall:{m['id']}" for m in recalled)
            received.append(f"{len(recalled)} recalled item(s) ({refs})")
        if SUMMARY_HEADER in system:
            received.append("a summary of earlier messages")
        if earlier:
            received.append(f"{len(earlier)} earlier message(s) in this thread")
        lines = [
            f'{LABEL} You said: "{_clip(user)}".',
            "Context I received: " + (", ".join(received) if received else "nothing beyond your message") + ".",
        ]
        previous_user = next((m.content for m in reversed(earlier) if m.role == "user"), None)
        if previous_user:
            lines.append(f'Earlier in this thread you said: "{_clip(previous_user)}".')
        for match in recalled[:2]:
            lines.append(f'Recalled (recall:{match["id"]}, {match["source"]}): "{_clip(match["text"])}".')
        for match in _GRAPH_FACT.finditer(system):
            lines.append(f'Graph fact (graph:{match["uuid"]}): "{_clip(match["fact"])}".')
        return "\n".join(lines)
