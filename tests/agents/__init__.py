"""Agents users define: versioned definitions, model providers, MCP tools."""
