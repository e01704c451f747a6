"""Moving a graph group's vectors to another embedding model.

The graph moves under the same fence as the recall store:
  1. loop reembed_batch(group, new, after=last_key) from after="" until last_key
     is None: the new model's vectors are written beside the live ones, which
     search and ingestion keep using;
  2. ingestion goes on meanwhile with the current model, so its newcomers (and
     entities or facts whose text changed) have no vector of the new model: run
     passes from after="" again until a whole pass embeds nothing;
  3. promote(group, new), in the same step as the tenant's fence moves; promote
     refuses while anything still lacks a vector of the new model.
The vectors promote replaces are kept as the old model's, so promote(group, old)
rolls back, until drop_shadows(group, old) cleans them up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory.core.validation import check_id
from memory.graph import queries
from memory.graph.embedder import GraphEmbedder
from memory.graph.errors import graph_errors
from memory.graph.models import ReembedBatch
from memory.graph.recording import capture

if TYPE_CHECKING:
    from graphiti_core.driver.driver import GraphDriver

    from memory.graph.clients import GraphClientsFactory


class GraphModelMove:
    """The model-move half of GraphMemory, which provides the group's driver and lock."""

    _factory: GraphClientsFactory
    _default_model: str

    async def _driver(self, group_id: str) -> GraphDriver:
        raise NotImplementedError

    def _group(self, group_id: str):
        raise NotImplementedError

    async def reembed_batch(self, group_id: str, to_model: str, *, after: str = "", limit: int = 100) -> ReembedBatch:
        """Embed, with to_model, up to `limit` entities and facts after key `after` that lack its vector.

        Entities come first, then facts, each by uuid. Running a batch again writes
        only what is still missing, onto the same shadow: nothing is ever duplicated.
        """
        check_id("group", group_id)
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        kind, _, uuid = after.partition(":") if after else ("entity", "", "")
        if kind not in ("entity", "fact"):
            raise ValueError(f"{after!r} is not a key reembed_batch returned")
        embedder = GraphEmbedder(self._factory.embedder(to_model))
        with capture("document") as calls:
            async with graph_errors("reembed_batch"):
                driver = await self._driver(group_id)
                entities = (
                    await queries.unshadowed(driver, group_id, "entity", to_model, uuid, limit)
                    if kind == "entity"
                    else []
                )
                room = limit - len(entities)
                facts = (
                    await queries.unshadowed(driver, group_id, "fact", to_model, uuid if kind == "fact" else "", room)
                    if room
                    else []
                )
                for batch_kind, items in (("entity", entities), ("fact", facts)):
                    if not items:
                        continue
                    vectors = await embedder.create_batch([text for _, text in items])
                    rows = [
                        {"uuid": item_uuid, "text": text, "vector": vector}
                        for (item_uuid, text), vector in zip(items, vectors, strict=True)
                    ]
                    await queries.write_shadows(driver, group_id, batch_kind, to_model, rows)
        if len(entities) + len(facts) < limit:
            last_key = None
        elif facts:
            last_key = f"fact:{facts[-1][0]}"
        else:
            last_key = f"entity:{entities[-1][0]}"
        return ReembedBatch(entities=len(entities), facts=len(facts), last_key=last_key, calls=calls)

    async def reembed_progress(self, group_id: str, to_model: str) -> tuple[int, int]:
        """(entities and facts with a current vector of to_model, entities and facts in all)."""
        check_id("group", group_id)
        async with graph_errors("reembed_progress"):
            driver = await self._driver(group_id)
            entities_done, entities = await queries.shadow_counts(driver, group_id, "entity", to_model)
            facts_done, facts = await queries.shadow_counts(driver, group_id, "fact", to_model)
        return entities_done + facts_done, entities + facts

    async def promote(self, group_id: str, to_model: str) -> int:
        """Make to_model's vectors the live ones and stamp it as the group's model.

        Returns how many entities and facts changed vectors (0 when to_model is already
        the group's model). Raises ValueError while any of them lacks a vector of
        to_model. Ingestion into the group waits meanwhile.
        """
        check_id("group", group_id)
        self._factory.embedder(to_model)  # an id no embedder serves is refused before anything moves
        group = self._group(group_id)
        async with group.ingesting:
            async with graph_errors("promote"):
                driver = await self._driver(group_id)
                current = await queries.fence_model(driver, group_id) or self._default_model
                if current == to_model:
                    return 0
                missing, moved = [], 0
                for kind in ("entity", "fact"):
                    done, total = await queries.shadow_counts(driver, group_id, kind, to_model)
                    moved += total
                    if done < total:
                        lacking = await queries.unshadowed(driver, group_id, kind, to_model, "", 3)
                        sample = ", ".join(repr(text) for _, text in lacking)
                        missing.append(f"{total - done} {kind} vector(s), e.g. {sample}")
                if missing:
                    raise ValueError(
                        f"group {group_id} cannot move to {to_model}: missing {'; '.join(missing)};"
                        " run reembed_batch passes until one embeds nothing"
                    )
                # Ingestion waits on the group's lock, so nothing is added between the count and the move.
                await queries.promote(driver, group_id, to_model, current)
            async with group.ready:
                group.graphiti.clear()
        return moved

    async def graph_model(self, group_id: str) -> str | None:
        """The model promote last made the group's; None if it never ran."""
        check_id("group", group_id)
        async with graph_errors("graph_model"):
            return await queries.fence_model(await self._driver(group_id), group_id)

    async def drop_shadows(self, group_id: str, model: str) -> int:
        """Forget the group's kept vectors of model (after a move, the old model's: no rollback after)."""
        check_id("group", group_id)
        async with graph_errors("drop_shadows"):
            return await queries.drop_shadows(await self._driver(group_id), group_id, model)
