"""How processes meet Temporal: the worker plugin, replay, codec, telemetry, start-up."""
