"""A deterministic stand-in for a language model, used when no API key is configured.

It is not a language model and says so in every reply. It reports what context it
received (so memory can be seen working end to end), follows a few explicit commands
at the start of a message, and refuses a prompt larger than its configured window
exactly as a provider would. The commands, each mapped to one tool call:

  remember: <note>     notebook_edit
  run: <command>       run_command; an "otherwise: <command>" line is tried after a
                       failure, and a substitution learned in this session or given by
                       an operator's correction is used instead of the command
  note: <text>         scratch_note
  recall: <query>      recall_search
  skill: <task-type>   load_skill
"""

from __future__ import annotations

import re

from memory.core.tokens import estimate_tokens
from memory.learning.command_form import CommandNormalizer
from memory.llm.base import (
    ContextWindowExceeded,
    ModelRequest,
    ModelResponse,
    ModelUsage,
    ToolCall,
)
from memory.prompt.assembly import (
    CORRECTIONS_HEADER,
    LEARNED_HEADER,
    NOTEBOOK_HEADER,
    SUMMARY_HEADER,
)

LABEL = "[offline model: no language model configured]"
SUMMARY_LABEL = "[offline summary]"
REFLECTION_LABEL = "[offline reflection]"
REMEMBER = re.compile(r"^\s*remember:\s*(?P<note>.+)$", re.IGNORECASE | re.DOTALL)
_SINGLE_TOOL = {
    "note": ("scratch_note", "note"),
    "recall": ("recall_search", "query"),
    "skill": ("load_skill", "task_type"),
}
_COMMAND = re.compile(r"^\s*(?P<verb>run|note|recall|skill):\s*(?P<arg>[^\n]+)", re.IGNORECASE)
_OTHERWISE = re.compile(r"^\s*otherwise:\s*(?P<command>[^\n]+)", re.IGNORECASE | re.MULTILINE)
_SUBSTITUTION = re.compile(r"^- `(?P<tried>[^`]+)` -> `(?P<instead>[^`]+)`", re.MULTILINE)
# A lesson in a skill or the notebook, as codify and reflection write them.
_LESSON = re.compile(r"Use `(?P<instead>[^`]+)` instead of `(?P<tried>[^`]+)`")
_EPISODE = re.compile(r"^\[episode:(?P<id>\d+) \| [^|]+\| (?P<outcome>\w+) \|", re.M)
_SKILL = re.compile(r"^\[skill (?P<path>\S+) v(?P<version>\d+)", re.M)
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
        if request.purpose in ("summary", "episode_summary"):
            text = self._summarise(request)
        elif request.purpose == "reflection":
            text = _reflect(request.messages[-1].content)
        elif request.tools and (call := _next_tool_call(request)):
            text, tool_calls = "", [call]
        elif request.tool_results:
            text = LABEL + " " + " ".join(
                f"{'Tool failed' if r.is_error else 'Done'} ({r.name}): {_clip(r.content)}" for r in request.tool_results
            )
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
        if skills := _SKILL.findall(system):
            received.append(f"{len(skills)} skill(s) ({', '.join(path for path, _ in skills)})")
        if episodes := _EPISODE.findall(system):
            received.append(f"{len(episodes)} past episode(s) ({', '.join(f'{o} episode:{i}' for i, o in episodes)})")
        if LEARNED_HEADER in system:
            received.append("what this session learned")
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


def _substitutions(system: str) -> dict[str, str]:
    """Lessons from skills and the notebook, then learned substitutions, then corrections
    (each later one wins), by normalised command."""
    normalise = CommandNormalizer().key
    found: dict[str, str] = {normalise(m["tried"]): m["instead"] for m in _LESSON.finditer(system)}
    for header in (LEARNED_HEADER, CORRECTIONS_HEADER):  # a correction wins over what was learned
        if header in system:
            section = system.split(header, 1)[1].split("\n## ", 1)[0]
            for match in _SUBSTITUTION.finditer(section):
                found[normalise(match["tried"])] = match["instead"]
    return found


def _next_tool_call(request: ModelRequest) -> ToolCall | None:
    user = request.messages[-1].content
    call_id = f"offline-call-{len(request.tool_calls) + 1}"
    if not request.tool_calls:
        if match := REMEMBER.match(user):
            return ToolCall(id=call_id, name="notebook_edit", arguments={"note": match["note"].strip()})
        if not (match := _COMMAND.match(user)):
            return None
        verb, arg = match["verb"].lower(), match["arg"].strip()
        if verb != "run":
            name, field = _SINGLE_TOOL[verb]
            return ToolCall(id=call_id, name=name, arguments={field: arg})
        command = _substitutions("\n\n".join(b.text for b in request.system)).get(CommandNormalizer().key(arg), arg)
        return ToolCall(id=call_id, name="run_command", arguments={"command": command})
    last_call, last = request.tool_calls[-1], request.tool_results[-1]
    if last_call.name != "run_command" or not last.is_error:
        return None
    # A failed command: try what an operator or this session says works, then the
    # message's own fallback, each once.
    tried = {CommandNormalizer().key(c.arguments.get("command", "")) for c in request.tool_calls if c.name == "run_command"}
    failed = CommandNormalizer().key(last_call.arguments.get("command", ""))
    candidates = [_substitutions("\n\n".join(b.text for b in request.system)).get(failed)]
    candidates += [m["command"].strip() for m in _OTHERWISE.finditer(user)]
    for command in candidates:
        if command and CommandNormalizer().key(command) not in tried:
            return ToolCall(id=call_id, name="run_command", arguments={"command": command})
    return None


def _reflect(prompt: str) -> str:
    """A lesson from the episode's own record: its substitutions, else its first failure."""
    if substitutions := list(_SUBSTITUTION.finditer(prompt)):
        return REFLECTION_LABEL + " " + " ".join(
            f"Use `{m['instead']}` instead of `{m['tried']}`." for m in substitutions
        )
    failure = next((line.strip() for line in prompt.splitlines() if line.lower().startswith("- failed")), None)
    if failure:
        return f"{REFLECTION_LABEL} Last time this went wrong: {_clip(failure[2:], 200)}. Check before repeating it."
    return f"{REFLECTION_LABEL} Nothing specific to change was recorded for this episode."
