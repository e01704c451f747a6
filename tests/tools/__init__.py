"""The agent's tools and the command runner."""
