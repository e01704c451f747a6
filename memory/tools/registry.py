"""Tools the agent may call, described for the model. Running them is the worker's job.

Memory tools read or deliberately write memory; `run_command` is a work tool that can
fail; `scratch_note` is working memory: it lives in the turn and is never stored.
"""

from __future__ import annotations

from memory.documents.notebook import MAX_NOTE_CHARS
from memory.llm.base import ToolSpec

MAX_QUERY_CHARS = 1_000
MAX_COMMAND_CHARS = 1_000

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

RECALL_SEARCH = ToolSpec(
    name="recall_search",
    description="Search your past conversations and ingested documents for passages relevant to a query.",
    input_schema={
        "type": "object",
        "properties": {"query": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY_CHARS}},
        "required": ["query"],
        "additionalProperties": False,
    },
)

LOAD_SKILL = ToolSpec(
    name="load_skill",
    description="Load the skill document for a task type (/skills/<task-type>.md): how this kind of task is done here.",
    input_schema={
        "type": "object",
        "properties": {"task_type": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}},
        "required": ["task_type"],
        "additionalProperties": False,
    },
)

RUN_COMMAND = ToolSpec(
    name="run_command",
    description=(
        "Run one command (no shell) in this conversation's scratch directory. Only allow-listed "
        "programs run; paths must stay inside the scratch directory."
    ),
    input_schema={
        "type": "object",
        "properties": {"command": {"type": "string", "minLength": 1, "maxLength": MAX_COMMAND_CHARS}},
        "required": ["command"],
        "additionalProperties": False,
    },
)

SCRATCH_NOTE = ToolSpec(
    name="scratch_note",
    description=(
        "Keep a working note for the rest of this turn only. It is never stored; to keep "
        "something, use notebook_edit."
    ),
    input_schema={
        "type": "object",
        "properties": {"note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE_CHARS}},
        "required": ["note"],
        "additionalProperties": False,
    },
)

AGENT_TOOLS = [NOTEBOOK_EDIT, RECALL_SEARCH, LOAD_SKILL, RUN_COMMAND, SCRATCH_NOTE]
TOOLS_BY_NAME = {tool.name: tool for tool in AGENT_TOOLS}
