"""Superseded knowledge, marked at read time.

A recalled exchange or a past episode can state something that has since stopped being
true: "Alice works at Globex", recalled beside the notebook's "Alice works at Initech".
The graph already knows which is current: when a newer episode (a conversation, or a
notebook edit, which is ingested into the graph too) contradicts a fact, graphiti marks
the old edge invalid. The rule here uses only that, so it can be explained in one line:

    An item is superseded by a graph fact F' when the graph holds an invalidated fact
    F (Alice -works at-> Globex), the item names both of F's entities (whole words,
    any case), the item happened before F stopped holding, and F' is a current fact
    with F's source entity and relation (Alice -works at-> Initech).

If no current fact replaces F, the item is still labelled: "no longer holds since ...".
Nothing is removed: the model sees the older item, labelled, and the current fact.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from pydantic import BaseModel

from memory.graph.models import GraphFact
from memory.prompt.manifest import ContextItem

log = logging.getLogger(__name__)


class Supersession(BaseModel, frozen=True):
    # The invalidated fact the item repeats, and what holds now (None: nothing does).
    stale_fact: str
    current_fact: str | None
    since: datetime

    def label(self) -> str:
        if self.current_fact:
            return f"older than the current fact: {self.current_fact}"
        return f"no longer holds since {self.since:%Y-%m-%d}: {self.stale_fact}"


def _names(text: str, name: str) -> bool:
    return bool(name.strip()) and re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", text, re.IGNORECASE) is not None


def _ended(fact: GraphFact) -> datetime | None:
    """When the fact stopped holding: its invalid_at, else when the graph expired it."""
    return fact.invalid_at or fact.expired_at


def supersession(text: str, happened_at: datetime, facts: list[GraphFact], now: datetime) -> Supersession | None:
    """The newest invalidated fact the text repeats, with the fact that replaced it."""
    current = [f for f in facts if f.is_current(now)]
    found: Supersession | None = None
    for stale in facts:
        ended = _ended(stale)
        if ended is None or ended > now or happened_at >= ended:
            continue
        if not (_names(text, stale.source_entity) and _names(text, stale.target_entity)):
            continue
        replacement = next(
            (
                f
                for f in reversed(current)
                if f.source_entity.lower() == stale.source_entity.lower()
                and f.relation == stale.relation
                and f.target_entity.lower() != stale.target_entity.lower()
            ),
            None,
        )
        candidate = Supersession(
            stale_fact=stale.fact, current_fact=replacement.fact if replacement else None, since=ended
        )
        if found is None or candidate.since > found.since:
            found = candidate
    return found


async def mark_superseded(knowledge, tenant_id: str, items: list[tuple[ContextItem, str]], now: datetime) -> list[ContextItem]:
    """The manifest items, each labelled when its text (given beside it) repeats a fact the
    graph has since invalidated. A graph that cannot be read leaves the items unlabelled:
    recall must not fail because the graph is away."""
    if not items:
        return []
    try:
        facts = await knowledge.all_facts(tenant_id)
    except Exception:  # noqa: BLE001 (any graph failure; the items stand as they are)
        log.warning("superseded check skipped for tenant %s: the graph could not be read", tenant_id, exc_info=True)
        return [item for item, _ in items]
    if not any(_ended(f) for f in facts):
        return [item for item, _ in items]
    labelled = []
    for item, text in items:
        found = supersession(text, item.source_time, facts, now)
        labelled.append(item.model_copy(update={"superseded_by": found.label()}) if found else item)
    return labelled
