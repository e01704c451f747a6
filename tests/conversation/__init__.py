"""The conversation workflow and its client: turns, resends, failures."""
