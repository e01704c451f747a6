"""Finding the entities a message names, in time proportional to the message.

Anchoring used to compile and run one regex per entity of the group on every turn, inside
the event loop: 15 s for 20,000 entities and a long message, during which every tenant's
activities on that worker stalled. The matcher indexes names once per group (rebuilt when the
group's entities change) and probes that index where a name could start, with the same
rule as before: the whole name, any case, not
inside a longer word. Callers run it in a thread and give it a bounded text.
"""

from __future__ import annotations

from collections import defaultdict

# Entities are looked for in this much of the message; a name first mentioned past it
# does not anchor the search (the recall store still sees the whole message).
MAX_ANCHOR_TEXT_CHARS = 4_000


class EntityMatcher:
    def __init__(self, entities: list[tuple[str, str]]):
        self.size = len(entities)
        self._by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for uuid, name in entities:
            stripped = (name or "").strip()
            if stripped:
                self._by_name[stripped.lower()].append((uuid, name))
        # One dictionary probe per name length at each place a name may start: the work
        # depends on the message and on how many lengths names have, not on how many names.
        self._lengths = sorted({len(lowered) for lowered in self._by_name})

    def anchors(self, text: str) -> list[tuple[str, str]]:
        """(uuid, name) of the entities named in `text`, by where each first appears,
        longer names first on a tie."""
        text = text[:MAX_ANCHOR_TEXT_CHARS]
        lowered = text.lower()
        if len(lowered) != len(text):
            lowered = "".join(character.lower()[:1] for character in text)  # keep offsets aligned
        first_seen: dict[str, tuple[int, int, str]] = {}
        size = len(text)
        for start in range(size):
            if start and _is_word(text[start - 1]):
                continue  # inside a word: no name starts here
            for length in self._lengths:
                end = start + length
                if end > size:
                    break
                if end < size and _is_word(text[end]):
                    continue  # a name is not matched inside a longer word
                for uuid, name in self._by_name.get(lowered[start:end], ()):
                    if uuid not in first_seen:
                        first_seen[uuid] = (start, -len(name), name)
        ordered = sorted((start, size_, uuid, name) for uuid, (start, size_, name) in first_seen.items())
        return [(uuid, name) for _, _, uuid, name in ordered]


def _is_word(character: str) -> bool:
    return character.isalnum() or character == "_"
