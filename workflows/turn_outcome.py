"""What a turn says about itself: its failure reasons, the answer a resend gets, and the
details the Temporal UI shows for it. Pure functions of the workflow's values."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from activities.turn_models import GenerateOutput
    from activities.turn_step_models import LayerRead
    from contract.conversation import TurnResult
    from contract.errors import CONTEXT_WINDOW_EXCEEDED
    from memory.conversation.models import EarlierTurn
    from memory.llm.base import ModelUsage
    from memory.prompt.manifest import ContextItem


def is_context_overflow(err: ActivityError) -> bool:
    return isinstance(err.cause, ApplicationError) and err.cause.type == CONTEXT_WINDOW_EXCEEDED


def add_usage(total: ModelUsage, more: ModelUsage) -> ModelUsage:
    return ModelUsage(**{k: getattr(total, k) + getattr(more, k) for k in ModelUsage.model_fields})


def reason(err: ActivityError) -> str:
    cause = err.cause
    # Out of retries shows as a timeout; what kept failing is the more useful half.
    if isinstance(cause, TimeoutError) and cause.cause is not None:
        return f"{cause} (last error: {cause.cause})"
    return str(cause or err)


def answer_again(earlier: EarlierTurn) -> TurnResult:
    """What a resent request gets: its first turn's answer, or that turn's failure."""
    if earlier.status == "completed" and earlier.result is not None:
        return TurnResult.model_validate(earlier.result)
    if earlier.status == "failed" and earlier.error:
        raise ApplicationError(earlier.error, type="TurnFailed")
    raise ApplicationError(
        f"this request started turn {earlier.turn}, which did not finish; send the message again "
        "with a new request id to start a new turn",
        type="TurnFailed",
    )


def details(turn: int, manifest: list[ContextItem], reply: GenerateOutput, layers: list[LayerRead]) -> str:
    counts: dict[str, int] = {}
    for item in manifest:
        counts[item.layer.value] = counts.get(item.layer.value, 0) + 1
    answered = ", ".join(f"{count} {layer}" for layer, count in sorted(counts.items())) or "no memory"
    u = reply.usage
    text = (
        f"**Turn {turn}** answered by {reply.provider}/{reply.model} with {answered}.\n\n"
        f"Tokens: {u.input_tokens} in, {u.output_tokens} out, "
        f"{u.cache_read_input_tokens} read from prompt cache, {u.cache_creation_input_tokens} written to it."
    )
    if layers:
        text += "\n\nRead: " + ", ".join(f"{r.layer} {r.items} in {r.ms:g} ms" for r in layers) + "."
    return text
