"""Commands normalised into cache keys, so spelling variants of one command share a key.

A session-cache entry says "tried X, use Y instead". An agent rarely retypes X byte for
byte: it adds a space, reorders flags, clusters them. Each mode decides which variants
count as the same command:

- "exact": the command with surrounding whitespace stripped, nothing else.
- "whitespace": split as a POSIX shell would (shlex) and rejoined with single spaces and
  minimal quoting, so `ls   '/tmp'` and `ls /tmp` are one key.
- "sorted-flags" (the default): as "whitespace", then the program first, its option
  tokens (those starting with '-') sorted, short-flag clusters expanded (`-la` becomes
  `-a -l`), `--opt=value` kept whole, and positional arguments after them in their own
  order, since `cp a b` and `cp b a` differ. A lone `-` (stdin) is positional and
  everything after `--` is positional.
- "sorted-args": every argument after the program sorted, options and positionals alike.
  Coarser: `cp a b` and `cp b a` collide. For tools whose arguments are all unordered.

Known limit: an option's separate value, as in `head -n 5 f`, is taken for a positional
argument. `5` keeps its place among the positionals, so spacing and flag-order variants of
`head -n 5 f` still match, but `find . -name a -type f` and `find . -type a -name f` share
a key although they differ. Telling values from positionals needs each program's grammar,
which a cache in front of any tool cannot know. Single-dash long options (`find -name`)
and numeric flags (`head -10`) are expanded as if they were clusters: harmless for
matching, since every spelling of them expands the same way.

A command the shell lexer cannot parse (an unbalanced quote) falls back to collapsing
runs of whitespace, so it still gets a stable key in every mode but "exact".
"""

from __future__ import annotations

import shlex

from memory.core.validation import InvalidInput

MODES = ("exact", "whitespace", "sorted-flags", "sorted-args")
DEFAULT_MODE = "sorted-flags"


class CommandNormalizer:
    def __init__(self, mode: str = DEFAULT_MODE):
        if mode not in MODES:
            raise InvalidInput(f"unknown command normalisation {str(mode)[:80]!r}: use one of {', '.join(MODES)}")
        self.mode = mode

    def key(self, command: str) -> str:
        if not isinstance(command, str):
            raise InvalidInput(f"command must be a string, got {type(command).__name__}")
        stripped = command.strip()
        if not stripped:
            raise InvalidInput("command is empty or whitespace only")
        if self.mode == "exact":
            return stripped
        try:
            tokens = shlex.split(stripped)
        except ValueError:
            return " ".join(stripped.split())
        if self.mode == "whitespace":
            return shlex.join(tokens)
        program, arguments = tokens[0], tokens[1:]
        if self.mode == "sorted-args":
            return shlex.join([program, *sorted(arguments)])
        return shlex.join([program, *_sorted_flags(arguments)])


def _sorted_flags(arguments: list[str]) -> list[str]:
    options: list[str] = []
    positionals: list[str] = []
    for index, token in enumerate(arguments):
        if token == "--":
            # Past the end of options: what follows is positional whatever it looks like.
            positionals.extend(arguments[index:])
            break
        if token.startswith("--") or (token.startswith("-") and len(token) == 2):
            options.append(token)
        elif token.startswith("-") and len(token) > 2:
            options.extend(f"-{letter}" for letter in token[1:])
        else:
            positionals.append(token)
    return [*sorted(options), *positionals]
