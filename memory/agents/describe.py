"""An agent version as an operator reads it, and what changed between two versions."""

from __future__ import annotations

import difflib
import json

from memory.agents.models import AgentVersion


def describe(agent: AgentVersion) -> str:
    """The same text every time for one version, so two versions diff cleanly."""
    spec = agent.spec.model_dump(mode="json", exclude={"instructions"})
    lines = [
        f"agent {agent.agent_id} v{agent.version}, {agent.created_at:%Y-%m-%d %H:%M} by {agent.author}"
        + (f": {agent.note}" if agent.note else ""),
        f"model: {agent.spec.model}" + (f" at {agent.spec.base_url}" if agent.spec.base_url else ""),
        f"tools: {', '.join(agent.tool_names()) or 'none'}",
        "definition:",
        *json.dumps(spec, indent=2, sort_keys=True).splitlines(),
        "instructions:",
        *agent.spec.instructions.splitlines(),
    ]
    return "\n".join(lines)


def diff(old: AgentVersion, new: AgentVersion) -> list[str]:
    """A unified diff of two versions' definitions (their first lines, who and when, left out)."""
    a, b = describe(old).splitlines()[1:], describe(new).splitlines()[1:]
    return list(difflib.unified_diff(a, b, f"v{old.version}", f"v{new.version}", lineterm=""))
