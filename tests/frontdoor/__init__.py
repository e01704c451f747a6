"""The front door: the HTTP API with its keys, the MCP server, the CLI."""
