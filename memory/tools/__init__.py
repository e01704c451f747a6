"""The agent's tools: their descriptions, argument checks, the command runner and the call log."""
