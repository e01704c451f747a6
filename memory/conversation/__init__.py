"""Conversation layer: the message log, rolling summaries, turn records and request ids."""
