"""Validate a tool call's arguments against the tool's JSON schema before anything runs.

Only the schema features our tools use are checked (object, required, no extra
properties, string length and pattern); a call that fails gets a message the model can
act on and never reaches its tool.
"""

from __future__ import annotations

import re
from typing import Any

from memory.llm.base import ToolSpec


def argument_problem(spec: ToolSpec, arguments: Any) -> str | None:
    schema = spec.input_schema
    if not isinstance(arguments, dict):
        return f"{spec.name} takes an object of arguments, got {type(arguments).__name__}"
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    missing = [name for name in schema.get("required", []) if name not in arguments]
    if missing:
        return f"{spec.name} needs {', '.join(repr(m) for m in missing)}"
    if schema.get("additionalProperties") is False:
        extra = sorted(set(arguments) - set(properties))
        if extra:
            return f"{spec.name} takes no argument {', '.join(repr(e) for e in extra)}"
    for name, value in arguments.items():
        rule = properties.get(name, {})
        if rule.get("type") == "string":
            if not isinstance(value, str):
                return f"{spec.name}: {name!r} must be text, got {type(value).__name__}"
            if "\x00" in value:
                return f"{spec.name}: {name!r} contains a NUL byte"
            if not value.strip() and rule.get("minLength", 0) > 0:
                return f"{spec.name}: {name!r} is empty"
            if len(value) > rule.get("maxLength", len(value)):
                return f"{spec.name}: {name!r} is {len(value)} characters; the limit is {rule['maxLength']}"
            if "pattern" in rule and not re.fullmatch(rule["pattern"], value):
                return f"{spec.name}: {name!r} must match {rule['pattern']}"
    return None
