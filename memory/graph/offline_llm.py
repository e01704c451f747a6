"""The offline graph model.

Not a language model: a small rule-based extractor so the graph layer runs without
a model API. It answers graphiti's own prompts, so graphiti's real pipeline (node
and edge resolution, temporal invalidation, storage) runs unchanged; only the
reading of sentences is replaced, by memory.graph.grammar.

It reads each prompt the way a model would: it finds the sections graphiti fills in
(<TEXT>, <CURRENT_MESSAGE>, <NEW FACT>, ...) and ignores the instructions and the
worked examples around them.
"""

from __future__ import annotations

import ast
import json
import re
import typing
from datetime import datetime

from graphiti_core.llm_client.client import LLMClient
from graphiti_core.llm_client.config import LLMConfig, ModelSize
from graphiti_core.prompts.models import Message
from pydantic import BaseModel

from memory.core.tokens import estimate_tokens
from memory.graph import grammar
from memory.graph.models import GraphCall
from memory.graph.recording import record

PROVIDER = "offline"
MODEL = "rule-based-extractor"
_SUMMARY_CHARS = 500


class OfflineRuleMissing(ValueError):
    """graphiti asked a question the offline extractor has no rule for."""


class OfflineGraphLLM(LLMClient):
    def __init__(self) -> None:
        super().__init__(LLMConfig(model=MODEL, temperature=0))

    async def generate_response(
        self,
        messages: list[Message],
        response_model: type[BaseModel] | None = None,
        max_tokens: int | None = None,
        model_size: ModelSize = ModelSize.medium,
        group_id: str | None = None,
        prompt_name: str | None = None,
        *,
        attribute_extraction: bool = False,
        model: str | None = None,
    ) -> dict[str, typing.Any]:
        # Skips the base class on purpose: it would append a JSON schema and a language
        # note meant for a model, and retry on errors a rule cannot recover from.
        response = answer(prompt_name, messages, response_model)
        prompt_text = "\n".join(message.content for message in messages)
        record(
            GraphCall(
                kind="llm",
                purpose=prompt_name or "unnamed",
                provider=PROVIDER,
                model=MODEL,
                input_tokens=estimate_tokens(prompt_text),
                output_tokens=estimate_tokens(json.dumps(response)),
            )
        )
        return response

    async def _generate_response(
        self,
        messages: list[Message],
        response_model: type[BaseModel] | None = None,
        max_tokens: int | None = None,
        model_size: ModelSize = ModelSize.medium,
        *,
        model: str | None = None,
    ) -> dict[str, typing.Any]:
        return answer(None, messages, response_model)


def answer(
    prompt_name: str | None, messages: list[Message], response_model: type[BaseModel] | None
) -> dict[str, typing.Any]:
    text = "\n".join(message.content for message in messages)
    name = prompt_name or (response_model.__name__ if response_model else "")
    handler = _HANDLERS.get(name) or _HANDLERS.get(response_model.__name__ if response_model else "")
    if handler is None:
        response = _empty(name, response_model)
    else:
        response = handler(text)
    # Our own answers go through the schema too: a rule bug should fail here, loudly.
    if response_model is not None:
        response = response_model.model_validate(response).model_dump()
    return response


def _extract_entities(text: str) -> dict[str, typing.Any]:
    content = _section(text, "TEXT", "CURRENT MESSAGE", "CURRENT_MESSAGE", "JSON")
    names = grammar.entity_names(grammar.extract(content))
    return {
        "extracted_entities": [
            {"name": name, "entity_type_id": 0, "episode_indices": [0]} for name in names
        ]
    }


def _dedupe_entities(text: str) -> dict[str, typing.Any]:
    extracted = _json_section(text, "ENTITIES")
    existing = _json_section(text, "EXISTING ENTITIES")
    by_name = {}
    for candidate in existing:
        by_name.setdefault(_norm(candidate["name"]), candidate["candidate_id"])
    return {
        "entity_resolutions": [
            {
                "id": entity["id"],
                "name": entity["name"],
                "duplicate_candidate_id": by_name.get(_norm(entity["name"]), -1),
            }
            for entity in extracted
        ]
    }


def _extract_edges(text: str) -> dict[str, typing.Any]:
    content = _section(text, "CURRENT_MESSAGE", "CURRENT MESSAGE", "TEXT")
    reference = _reference_time(_section(text, "REFERENCE_TIME", "REFERENCE TIME"))
    # Use the names exactly as graphiti listed them, or it would invent endpoint nodes.
    known = {_norm(entity["name"]): entity["name"] for entity in _json_section(text, "ENTITIES")}
    edges = []
    for triple in grammar.extract(content):
        source = known.get(_norm(triple.subject), triple.subject)
        target = known.get(_norm(triple.object), triple.object)
        edges.append(
            {
                "source_entity_name": source,
                "target_entity_name": target,
                "relation_type": triple.relation,
                "fact": grammar.Triple(source, triple.relation, target).fact,
                "valid_at": reference,
                "invalid_at": None,
                "episode_indices": [0],
            }
        )
    return {"edges": edges}


def _resolve_edge(text: str) -> dict[str, typing.Any]:
    existing = _literal_section(text, "EXISTING FACTS")
    candidates = _literal_section(text, "FACT INVALIDATION CANDIDATES")
    new = grammar.parse_fact(_section(text, "NEW FACT"))
    duplicates: list[int] = []
    contradicted: list[int] = []
    if new is None:
        return {"duplicate_facts": [], "contradicted_facts": []}
    # Only EXISTING FACTS (same endpoints) may be duplicates; either list may be contradicted.
    for items, may_duplicate in ((existing, True), (candidates, False)):
        for item in items:
            old = grammar.parse_fact(str(item.get("fact", "")))
            if old is None:
                continue
            if old.key() == new.key():
                if may_duplicate:
                    duplicates.append(item["idx"])
            elif _contradicts(new, old):
                contradicted.append(item["idx"])
    return {"duplicate_facts": duplicates, "contradicted_facts": contradicted}


def _contradicts(new: grammar.Triple, old: grammar.Triple) -> bool:
    return (
        new.relation in grammar.SINGLE_VALUED
        and new.relation == old.relation
        and new.subject.casefold() == old.subject.casefold()
        and new.object.casefold() != old.object.casefold()
    )


def _timestamps(text: str) -> dict[str, typing.Any]:
    # Every fact the grammar knows is stated in the present: true from the episode's time.
    return {"valid_at": _reference_time(_section(text, "REFERENCE TIME", "REFERENCE_TIME")), "invalid_at": None}


def _summaries(text: str) -> dict[str, typing.Any]:
    content = _current_episode(text)
    summaries = []
    for entity in _json_section(text, "ENTITIES"):
        summary = _summary_for(entity["name"], entity.get("summary") or "", content)
        if summary:
            summaries.append({"name": entity["name"], "summary": summary})
    return {"summaries": summaries}


def _summary(text: str) -> dict[str, typing.Any]:
    entity = _literal_section(text, "ENTITY")
    name = entity.get("name", "") if isinstance(entity, dict) else ""
    existing = entity.get("summary", "") if isinstance(entity, dict) else ""
    return {"summary": _summary_for(name, existing or "", _current_episode(text))}


def _summary_for(name: str, existing: str, content: str) -> str:
    """An extractive summary: the existing one, then the episode's sentences naming the entity."""
    if not name:
        return existing
    mentions = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
    parts = [existing.strip()] if existing.strip() else []
    parts += [s for s in grammar.sentences(content) if mentions.search(s) and s not in existing]
    return " ".join(parts)[:_SUMMARY_CHARS]


_HANDLERS: dict[str, typing.Callable[[str], dict[str, typing.Any]]] = {
    "extract_nodes.extract_text": _extract_entities,
    "extract_nodes.extract_message": _extract_entities,
    "extract_nodes.extract_json": _extract_entities,
    "ExtractedEntities": _extract_entities,
    "dedupe_nodes.nodes": _dedupe_entities,
    "NodeResolutions": _dedupe_entities,
    "extract_edges.edge": _extract_edges,
    "ExtractedEdges": _extract_edges,
    "dedupe_edges.resolve_edge": _resolve_edge,
    "EdgeDuplicate": _resolve_edge,
    "extract_edges.extract_timestamps": _timestamps,
    "EdgeTimestamps": _timestamps,
    "extract_nodes.extract_summaries_batch": _summaries,
    "extract_nodes.extract_entity_summaries_from_episodes": _summaries,
    "SummarizedEntities": _summaries,
    "extract_nodes.extract_summary": _summary,
    "EntitySummary": _summary,
}


def _empty(name: str, response_model: type[BaseModel] | None) -> dict[str, typing.Any]:
    """Nothing to say, in the requested shape: attribute prompts for custom types and the like."""
    if response_model is None:
        return {}
    response: dict[str, typing.Any] = {}
    for field_name, field in response_model.model_fields.items():
        if not field.is_required():
            continue
        if typing.get_origin(field.annotation) is list:
            response[field_name] = []
        else:
            raise OfflineRuleMissing(f"no offline rule answers {name!r} (required field {field_name!r})")
    return response


def _section(text: str, *tags: str) -> str:
    for tag in tags:
        match = re.search(rf"<{re.escape(tag)}>\s*\n(.*?)\n\s*</{re.escape(tag)}>", text, re.DOTALL)
        if match:
            return match.group(1)
    return ""


def _json_section(text: str, tag: str) -> list[dict[str, typing.Any]]:
    body = _section(text, tag).strip()
    try:
        value = json.loads(body) if body else []
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []


def _literal_section(text: str, tag: str) -> typing.Any:
    # graphiti formats these sections with str() of Python lists and dicts, not JSON.
    body = _section(text, tag).strip()
    try:
        return ast.literal_eval(body) if body else []
    except (ValueError, SyntaxError):
        return []


def _current_episode(text: str) -> str:
    """The current episode of a MESSAGES/EPISODES section: its last line, a JSON string."""
    body = _section(text, "MESSAGES", "EPISODES").strip()
    if not body:
        return ""
    try:
        value = json.loads(body.splitlines()[-1])
    except json.JSONDecodeError:
        return ""
    return value if isinstance(value, str) else ""


def _reference_time(value: str) -> str | None:
    raw = value.split("#", 1)[0].strip()
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return None


def _norm(name: str) -> str:
    return " ".join(name.casefold().split())
