"""The text rules of skills: their paths and task types, who may author them, the keywords
and lessons a skill declares, and which task type a message is about. No storage here."""

from __future__ import annotations

import re

from memory.core.validation import InvalidInput

GENERAL = "general"
SKILLS_DIR = "/skills/"
MAX_LESSON_CHARS = 2_000
# Skills are loaded into every turn of their task type, so they must stay small enough to
# leave room for the conversation; an operator condenses a skill that outgrows this.
MAX_SKILL_CHARS = 20_000
REFLECTION_AUTHOR = "agent:reflection"

TASK_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_OPERATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_OPERATOR_PREFIXES = ("operator:", "agent:codify:")
_LESSONS_HEADING = "## lessons"
_KEYWORDS_LINE = re.compile(r"^\s*keywords\s*:(.*)$", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
# A lesson as codify and approved reflection write it, within one bullet.
_LESSON = re.compile(r"Use `(?P<instead>[^`\n]+)` instead of `(?P<tried>[^`\n]+)`")


def check_task_type(task_type: object) -> str:
    if not isinstance(task_type, str) or not TASK_TYPE.match(task_type):
        raise InvalidInput(
            f"task type {str(task_type)[:80]!r} is malformed: use 1-63 lowercase letters, digits or '-', "
            "starting with a letter or digit"
        )
    return task_type


def skill_path(task_type: str) -> str:
    return f"{SKILLS_DIR}{check_task_type(task_type)}.md"


def is_operator_author(author: str) -> bool:
    return author.startswith(_OPERATOR_PREFIXES)


def keywords(content: str) -> list[str]:
    """The keywords a skill declares in its first non-blank line, `keywords: a, b, c`."""
    for line in content.splitlines():
        if line.strip():
            match = _KEYWORDS_LINE.match(line)
            return [k.strip().lower() for k in match.group(1).split(",") if k.strip()] if match else []
    return []


def lesson_substitutions(content: str) -> list[tuple[str, str]]:
    """(tried, instead) for every "Use `Y` instead of `X`" bullet of the skill's Lessons
    section. Only this section counts: it is written by codify, by an operator, or by a
    reflection an operator approved."""
    lines = content.split("\n")
    heading = next((i for i, line in enumerate(lines) if line.strip().lower() == _LESSONS_HEADING), None)
    if heading is None:
        return []
    found = []
    for line in lines[heading + 1 :]:
        if line.startswith("#"):
            break
        if line.strip().startswith("- "):
            found += [(match["tried"], match["instead"]) for match in _LESSON.finditer(line)]
    return found


def task_type_of(message: str, contents: dict[str, str]) -> str:
    """SkillLibrary.classify's rule over task type -> skill text."""
    tokens = [_stem(w) for w in _WORD.findall(message.lower())]
    best: tuple[int, str] | None = None
    for task_type, content in sorted(contents.items()):
        if task_type == GENERAL:
            continue
        own = [w for w in task_type.split("-") if w]
        own_found = sum(_contains(tokens, [w]) for w in own)
        keywords_found = sum(_contains(tokens, _WORD.findall(k)) for k in keywords(content))
        if own_found * 2 <= len(own) and not keywords_found:
            continue
        score = own_found + keywords_found
        if best is None or score > best[0]:
            best = (score, task_type)
    return best[1] if best else GENERAL


def check_operator(operator: object) -> str:
    if not isinstance(operator, str) or not _OPERATOR.match(operator):
        raise InvalidInput(f"operator name {str(operator)[:80]!r} is malformed")
    return operator


def check_author(author: object) -> str:
    if author == REFLECTION_AUTHOR:
        return author
    if isinstance(author, str):
        for prefix in _OPERATOR_PREFIXES:
            if author.startswith(prefix) and _OPERATOR.match(author.removeprefix(prefix)):
                return author
    raise InvalidInput(
        f"skill author {str(author)[:80]!r} must be 'operator:<name>', 'agent:codify:<operator>' or '{REFLECTION_AUTHOR}'"
    )


def check_text(kind: str, text: object, max_chars: int) -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"{kind} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInput(f"{kind} is empty")
    if len(text) > max_chars:
        raise InvalidInput(f"{kind} is {len(text)} characters; the limit is {max_chars}")
    if "\x00" in text:
        raise InvalidInput(f"{kind} contains a NUL byte")
    return text


def with_lesson(content: str, lesson: str) -> str:
    """The content with `- lesson` at the end of its Lessons section (added if absent);
    unchanged when that section already holds the lesson."""
    bullet = f"- {lesson}"
    lines = content.rstrip("\n").split("\n")
    heading = next((i for i, line in enumerate(lines) if line.strip().lower() == _LESSONS_HEADING), None)
    if heading is None:
        return "\n".join([*lines, "", "## Lessons", bullet]) + "\n"
    end = next((i for i in range(heading + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    if bullet in (line.strip() for line in lines[heading + 1 : end]):
        return content
    while end > heading + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join([*lines[:end], bullet, *lines[end:]]) + "\n"


def _contains(tokens: list[str], words: list[str]) -> bool:
    """Whether the stemmed words occur in the stemmed tokens, consecutively."""
    stems = [_stem(w) for w in words]
    if not stems:
        return False
    return any(tokens[i : i + len(stems)] == stems for i in range(len(tokens) - len(stems) + 1))


def _stem(word: str) -> str:
    # Just enough to match plurals and -ing/-ed forms of one word; not a real stemmer.
    for suffix in ("ing", "ed", "es", "s"):
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            break
        word = word[: -len(suffix)]
        if suffix in ("ing", "ed") and len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]  # shipping -> ship
        break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word
