"""Workflows: orchestration only. No I/O, no clocks, no randomness outside Temporal's."""
