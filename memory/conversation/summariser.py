"""Rolling summary of a thread: fold older messages into a new summary row, keep the tail.

The summary is written by the model (a memory-layer call, billed as its own action).
Messages are only read, never changed.
"""

from __future__ import annotations

from pydantic import BaseModel

from memory.conversation.store import ConversationStore
from memory.core.refs import ThreadRef
from memory.core.usage import Action, UsageLedger
from memory.llm.base import ChatMessage, LLMClient, ModelRequest, TextBlock

SUMMARY_INSTRUCTIONS = """You maintain the running summary of a conversation between a user and an assistant.
Rewrite the previous summary to include the new messages. Keep facts, decisions, names,
numbers and open questions; drop pleasantries. Write plain sentences, at most 300 words."""

_MAX_CHARS_PER_MESSAGE = 2_000


class SummaryOutcome(BaseModel):
    summary_id: int | None
    folded_messages: int
    tail_tokens_before: int


async def summarise_thread(
    thread: ThreadRef,
    *,
    store: ConversationStore,
    llm: LLMClient,
    ledger: UsageLedger,
    trigger_tokens: int,
    keep_tail_messages: int,
    force: bool = False,
) -> SummaryOutcome:
    """Fold the live tail, minus its newest messages, into a new summary.

    force is for a context-window overflow: it folds even under the threshold and keeps
    a shorter tail, because the prompt did not fit as it was.
    """
    context = await store.context(thread)
    tokens = context.tail_tokens
    if not force and tokens <= trigger_tokens:
        return SummaryOutcome(summary_id=None, folded_messages=0, tail_tokens_before=tokens)
    keep = max(1, keep_tail_messages // 2) if force else keep_tail_messages
    to_fold = context.tail[:-keep] if len(context.tail) > keep else []
    if not to_fold:
        return SummaryOutcome(summary_id=None, folded_messages=0, tail_tokens_before=tokens)

    transcript = "\n".join(f"{m.role}: {m.content[:_MAX_CHARS_PER_MESSAGE]}" for m in to_fold)
    previous = context.summary.content if context.summary else "(none yet)"
    response = await llm.generate(
        ModelRequest(
            system=[TextBlock(text=SUMMARY_INSTRUCTIONS, cacheable=True)],
            messages=[ChatMessage(role="user", content=f"Previous summary:\n{previous}\n\nNew messages:\n{transcript}")],
            purpose="summary",
            max_output_tokens=600,
        )
    )
    covers_through = to_fold[-1].id
    await ledger.record(
        idempotency_key=f"{thread.key}/summary/through/{covers_through}",
        tenant_id=thread.tenant_id,
        agent_id=thread.agent_id,
        thread_id=thread.thread_id,
        action=Action.CONVERSATION_SUMMARY,
        provider=response.provider,
        model=response.model,
        usage=response.usage,
    )
    summary = await store.add_summary(thread, covers_through, response.text)
    return SummaryOutcome(summary_id=summary.id, folded_messages=len(to_fold), tail_tokens_before=tokens)
