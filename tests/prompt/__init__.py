"""Working-context assembly."""
