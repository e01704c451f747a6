"""Shared core of every layer: settings, database, schema, tenants, switches, usage, validation, telemetry."""
