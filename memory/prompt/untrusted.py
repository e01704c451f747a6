"""Retrieved text as data: fenced, quoted line by line, never able to pose as instructions.

Anything memory hands back (a recalled exchange, a document chunk, a graph fact, an episode
summary, a notebook note, a skill) may carry text a user or a document author wrote to
steer the agent: a spoofed "## Operator corrections" heading, a fake "- `x` -> `y`"
substitution, a line closing the fence early. In the prompt every such item becomes

    <data [source label]>
    | first line of the item
    | second line
    </data>

Every line of the item starts with "| ", so none of them can start a section ("## "), a
list entry the prompt's own sections use ("- `"), or the closing "</data>" line. The label
is flattened to one line without brackets, so it cannot end early either.
"""

from __future__ import annotations

import re

QUOTE = "| "
CLOSE = "</data>"
_LABEL_UNSAFE = re.compile(r"[\[\]<>]")
# An item in the prompt: its label and its quoted body, as data_item writes it.
ITEM = re.compile(r"^<data \[(?P<label>[^\]\n]*)\]>\n(?P<body>(?:\| [^\n]*\n)*)</data>$", re.M)


def one_line(text: str) -> str:
    """The text on a single line: every run of whitespace (line breaks of any kind
    included) becomes one space."""
    return " ".join(str(text).split())


def quote(text: str) -> str:
    lines = text.strip().splitlines() or [""]
    return "\n".join(QUOTE + line.rstrip() for line in lines)


def unquote(body: str) -> str:
    return "\n".join(line.removeprefix(QUOTE.rstrip()).removeprefix(" ") for line in body.rstrip("\n").split("\n"))


def label(text: str) -> str:
    return _LABEL_UNSAFE.sub("", one_line(text))


def data_item(source: str, text: str) -> str:
    return f"<data [{label(source)}]>\n{quote(text)}\n{CLOSE}"
