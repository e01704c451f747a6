"""Local infrastructure for running the memory runtime without Docker."""
