"""Token estimates for budgeting. A heuristic, deliberately: budgets need to be
consistent and cheap, not exact; the provider's own count is recorded after the call."""


def estimate_tokens(text: str) -> int:
    # About four characters per token for English prose, rounded up.
    return (len(text) + 3) // 4
