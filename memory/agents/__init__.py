"""Agents that users define: instructions, model, tools (built-in and MCP), limits, reads."""
