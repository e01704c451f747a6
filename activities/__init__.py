"""Thin adapters from Temporal to memory/: retries, timeouts and error classification."""
