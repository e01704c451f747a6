"""Working-context assembly: cache-stable order, notebook authority, provenance in the text."""

from __future__ import annotations

from datetime import datetime, timezone

from memory.prompt.assembly import (
    ContextSources,
    NotebookEntry,
    RecalledEntry,
    SummaryEntry,
    TailMessage,
    assemble,
)

T = datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc)


def recalled(*ids: int) -> list[RecalledEntry]:
    return [RecalledEntry(id=i, source=f"exchange in thread t{i}", created_at=T, text=f"exchange {i}") for i in ids]


def test_same_retrieval_set_gives_a_byte_identical_prefix_whatever_the_score_order():
    notebook = NotebookEntry(version_id=7, version=2, content="# Notebook\n- customer prefers email", updated_at=T)
    first = assemble(ContextSources(notebook=notebook, recalled=recalled(12, 3, 7), tail=[], user_message="hi"))
    second = assemble(
        ContextSources(
            notebook=notebook,
            recalled=recalled(7, 12, 3),
            tail=[TailMessage(role="user", content="hi"), TailMessage(role="assistant", content="hello")],
            user_message="and again",
        )
    )
    assert first.stable_prefix == second.stable_prefix
    assert first.stable_prefix.index("[recall:3 ") < first.stable_prefix.index("[recall:7 ") < first.stable_prefix.index("[recall:12 ")


def test_a_changed_retrieval_set_changes_the_prefix():
    a = assemble(ContextSources(recalled=recalled(1, 2), user_message="x"))
    b = assemble(ContextSources(recalled=recalled(1, 3), user_message="x"))
    assert a.stable_prefix != b.stable_prefix


def test_order_is_prefix_memory_summary_tail_then_new_message_last():
    ctx = assemble(
        ContextSources(
            notebook=NotebookEntry(version_id=1, version=1, content="- fact", updated_at=T),
            recalled=recalled(5),
            summary=SummaryEntry(id=9, content="earlier: greeted", created_at=T),
            tail=[TailMessage(role="user", content="q1"), TailMessage(role="assistant", content="a1")],
            user_message="q2",
        )
    )
    assert [b.cacheable for b in ctx.system] == [True, True, True]
    assert ctx.system[0].text.startswith("You are a long-lived assistant")
    assert ctx.system[1].text.index("## Notebook") < ctx.system[1].text.index("## Recalled")
    assert ctx.system[2].text.startswith("## Summary") and "[summary:9 | 2026-03-04 09:30 UTC]" in ctx.system[2].text
    assert [(m.role, m.content) for m in ctx.messages] == [("user", "q1"), ("assistant", "a1"), ("user", "q2")]


def test_every_item_names_its_source_and_time():
    ctx = assemble(ContextSources(recalled=recalled(4), user_message="x"))
    assert "[recall:4 | exchange in thread t4 | 2026-03-04 09:30 UTC]" in ctx.stable_prefix


def test_what_the_session_learned_is_cached_only_while_the_set_is_unchanged():
    from memory.prompt.assembly import CorrectionEntry, LearnedEntry

    learned = [LearnedEntry(tried="ls -z", instead="ls -a", source="tool_recovery")]
    base = dict(recalled=recalled(3), summary=SummaryEntry(id=1, content="s", created_at=T), user_message="hi")
    changed = assemble(ContextSources(**base, learned=learned, learned_unchanged=False))
    unchanged = assemble(ContextSources(**base, learned=learned, learned_unchanged=True))
    without = assemble(ContextSources(**base))

    # A new lesson goes after every cached block, so the prefix before it is still a cache hit.
    assert changed.stable_prefix == without.stable_prefix
    assert "`ls -z` -> `ls -a`" in changed.system[-1].text and not changed.system[-1].cacheable
    # Once the next call sees the same set, it joins the cached prefix.
    assert unchanged.system[-1].cacheable and unchanged.stable_prefix.startswith(without.stable_prefix)

    corrected = assemble(
        ContextSources(**base, corrections=[CorrectionEntry(tried="pip install x", instead="uv add x", operator="ana")])
    )
    assert corrected.stable_prefix == without.stable_prefix
    assert "operator ana" in corrected.system[-1].text and not corrected.system[-1].cacheable
