"""Shared core: switches, plans, the usage report, the model client."""
