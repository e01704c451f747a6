"""Export an agent's memory to a versioned JSONL archive, and import one back."""
