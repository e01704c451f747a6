"""What goes into the graph as an episode, for each of the three sources.

Conversations are summarised first: extraction runs on a short factual summary of the
exchange, not the raw transcript, which is cheaper and keeps the agent's own wording
(and anything it merely repeated) out of the facts.
"""

from __future__ import annotations

from memory.llm.base import (
    ChatMessage,
    LLMClient,
    ModelRequest,
    ModelResponse,
    TextBlock,
)

EXCHANGE_SUMMARY_INSTRUCTIONS = """Rewrite one exchange between a user and an assistant as short factual
statements about the people, organisations, places and things it mentions, one per line,
in plain sentences such as "Dana Smith works at Acme Corp.". Keep names exactly as written.
State only what the user asserted or confirmed; leave out greetings, questions, the
assistant's suggestions and anything uncertain. If nothing factual was said, answer "none"."""

_MAX_CHARS_PER_SIDE = 4_000


async def summarise_exchange(llm: LLMClient, user_text: str, assistant_text: str) -> ModelResponse:
    transcript = f"user: {user_text[:_MAX_CHARS_PER_SIDE]}\nassistant: {assistant_text[:_MAX_CHARS_PER_SIDE]}"
    return await llm.generate(
        ModelRequest(
            system=[TextBlock(text=EXCHANGE_SUMMARY_INSTRUCTIONS, cacheable=True)],
            messages=[ChatMessage(role="user", content=transcript)],
            purpose="episode_summary",
            max_output_tokens=400,
        )
    )


def notebook_episode_body(content: str) -> str:
    # Said as the operator's statement so extraction treats it as asserted fact.
    return f"The operator's notebook for this agent states:\n{content.strip()}"


def document_episode_body(name: str, chunk_text: str, heading: str | None) -> str:
    where = f"{name}, section {heading}" if heading else name
    return f"From the document {where}:\n{chunk_text.strip()}"
