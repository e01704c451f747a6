"""A tiny English grammar of facts, for the offline graph extractor.

It recognises a handful of sentence shapes between capitalised names and nothing
else:

    <X> works at|works for <Org>           WORKS_AT
    <X> joined <Org>                       WORKS_AT (replaces an earlier employer)
    <X>'s company is [called] <Org>        WORKS_AT
    <X> is based in <Place>                BASED_IN
    <X> moved to|relocated to <Y>          BASED_IN if Y is a place, else WORKS_AT (replaces the earlier one)
    <X> uses <Thing>                       USES

Names are runs of capitalised words ("Dana Smith", "Acme Corp"). In a user's own
lines, "I ..." counts when the same text says "my name is <X>" or "I'm <X>".
Which kind of thing the Y of a move is, is decided by memory.graph.places.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from memory.graph.places import Kinds

# A relation an entity has at most one of at a time: a new target replaces the old.
SINGLE_VALUED = frozenset({"WORKS_AT", "BASED_IN"})
# Not a relation of the graph: a move becomes BASED_IN or WORKS_AT once its target's kind is known.
MOVED = "MOVED_TO"

_WORD = r"[A-Z][A-Za-z0-9&]*(?:[-.][A-Za-z0-9&]+)*"
_NAME = rf"{_WORD}(?: {_WORD})*"

# (relation, third-person verbs, first-person verbs)
_VERBS: tuple[tuple[str, str, str], ...] = (
    ("WORKS_AT", r"works at|works for|is working at|is working for", r"work at|work for|am working at|am working for"),
    ("WORKS_AT", r"joined|has joined", r"joined|have joined"),
    (
        MOVED,
        r"moved to|has moved to|relocated to|has relocated to",
        r"moved to|have moved to|relocated to|have relocated to",
    ),
    ("BASED_IN", r"is based in", r"am based in"),
    ("USES", r"uses|is using", r"use|am using"),
)
_PATTERNS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (
        relation,
        re.compile(rf"(?P<s>{_NAME}) (?:{third}) (?P<o>{_NAME})"),
        re.compile(rf"\bI (?:{first}) (?P<o>{_NAME})"),
    )
    for relation, third, first in _VERBS
)
_POSSESSIVE = re.compile(rf"(?P<s>{_NAME})'s company is (?:called |named )?(?P<o>{_NAME})")
_MY_COMPANY = re.compile(rf"\b[Mm]y company is (?:called |named )?(?P<o>{_NAME})")
_SELF_NAME = re.compile(rf"\b(?:[Mm]y name is|I am|I'm) (?P<name>{_NAME})")

_ROLE = re.compile(r"^\s*(?P<role>[A-Za-z][\w-]*(?: [A-Za-z][\w-]*)?)\s*:\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

# Capitalised words that start sentences without being names.
_NOT_NAMES = frozenset(
    """I The A An My Our Your His Her Their We He She They It This That These Those
    Yesterday Today Tomorrow Now Then So And But Also Actually Well Oh Yes No Ok Okay
    Note Update Since After Before In On At Last Next Recently Finally Meanwhile However
    Anyway Hi Hello Thanks Sure Great Where What Who When Why How Does Do Did Is Are
    January February March April May June July August September October November December
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split()
)


class Triple(NamedTuple):
    subject: str
    relation: str
    object: str

    @property
    def fact(self) -> str:
        """One canonical sentence per relation, so facts can be parsed back into triples."""
        verb = {"WORKS_AT": "works at", "BASED_IN": "is based in", "USES": "uses"}[self.relation]
        return f"{self.subject} {verb} {self.object}."

    def key(self) -> tuple[str, str, str]:
        return (self.subject.casefold(), self.relation, self.object.casefold())


def extract(
    text: str, *, context: Iterable[str] = (), types: Mapping[str, Iterable[str]] | None = None
) -> list[Triple]:
    """Every fact the grammar finds in text, in order, without repeats.

    context: earlier text of the same group, and types: the graph's types of names; both
    only help decide whether the target of a move is a place or an organisation.
    """
    found = _text_triples(text)
    stated = [(t.relation, t.object) for earlier in context for t in _text_triples(earlier)]
    kinds = Kinds(stated + [(t.relation, t.object) for t in found], types)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for triple in (_settled(t, kinds) for t in found):
        if triple.key() not in seen:
            seen.add(triple.key())
            unique.append(triple)
    return unique


def _text_triples(text: str) -> list[Triple]:
    triples: list[Triple] = []
    lines = [_split_role(line) for line in text.splitlines()]
    speaker = _speaker_name(lines)
    for role, line in lines:
        first_person = speaker if role in (None, "user") else None
        for sentence in _SENTENCE_END.split(line):
            triples += _sentence_triples(sentence, first_person)
    return triples


def _settled(triple: Triple, kinds: Kinds) -> Triple:
    """A move made a change of location or of employer, by what its target is."""
    if triple.relation != MOVED:
        return triple
    relation = "BASED_IN" if kinds.of(triple.object) == "place" else "WORKS_AT"
    return triple._replace(relation=relation)


def sentences(text: str) -> list[str]:
    """The sentences of text, without the "User:" style speaker labels."""
    return [
        sentence.strip()
        for line in text.splitlines()
        for sentence in _SENTENCE_END.split(_split_role(line)[1])
        if sentence.strip()
    ]


def parse_fact(fact: str) -> Triple | None:
    """The triple a fact sentence states, or None if the grammar does not know its shape."""
    found = _sentence_triples(fact, None)
    return _settled(found[0], Kinds()) if found else None


def entity_names(triples: list[Triple]) -> list[str]:
    names: dict[str, str] = {}
    for triple in triples:
        for name in (triple.subject, triple.object):
            names.setdefault(name.casefold(), name)
    return list(names.values())


def _split_role(line: str) -> tuple[str | None, str]:
    match = _ROLE.match(line)
    if match is None:
        return None, line
    return match["role"].lower(), line[match.end():]


def _speaker_name(lines: list[tuple[str | None, str]]) -> str | None:
    for role, line in lines:
        if role not in (None, "user"):
            continue
        match = _SELF_NAME.search(line)
        if match and (name := _clean_subject(match["name"])):
            return name
    return None


def _sentence_triples(sentence: str, speaker: str | None) -> list[Triple]:
    found: list[tuple[int, Triple]] = []

    def add(position: int, subject: str | None, relation: str, obj: str) -> None:
        obj = _clean_object(obj)
        if subject and obj and subject.casefold() != obj.casefold():
            found.append((position, Triple(subject, relation, obj)))

    for relation, third, first in _PATTERNS:
        for match in third.finditer(sentence):
            add(match.start(), _clean_subject(match["s"]), relation, match["o"])
        if speaker:
            for match in first.finditer(sentence):
                add(match.start(), speaker, relation, match["o"])
    for match in _POSSESSIVE.finditer(sentence):
        add(match.start(), _clean_subject(match["s"]), "WORKS_AT", match["o"])
    if speaker:
        for match in _MY_COMPANY.finditer(sentence):
            add(match.start(), speaker, "WORKS_AT", match["o"])
    return [triple for _, triple in sorted(found, key=lambda item: item[0])]


def _clean_subject(name: str) -> str | None:
    # "Yesterday Dana Smith joined Globex": the regex cannot tell "Yesterday" is no name.
    words = name.split()
    while words and words[0] in _NOT_NAMES:
        words.pop(0)
    return " ".join(words) or None


def _clean_object(name: str) -> str | None:
    words = name.split()
    if all(word in _NOT_NAMES for word in words):
        return None
    return " ".join(words)
