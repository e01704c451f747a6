"""Tools the agent may call, described for the model. Running them is the worker's job."""

from __future__ import annotations

from memory.llm.base import ToolSpec
from memory.notebook import MAX_NOTE_CHARS

NOTEBOOK_EDIT = ToolSpec(
    name="notebook_edit",
    description=(
        "Append one note to your notebook, your authoritative long-term memory. Use it only "
        "when the user asks you to remember something, with the fact stated plainly."
    ),
    input_schema={
        "type": "object",
        "properties": {"note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_CHARS}},
        "required": ["note"],
        "additionalProperties": False,
    },
)

AGENT_TOOLS = [NOTEBOOK_EDIT]
