"""What clients and workflows share: task queue, workflow ids and names, search attributes, input and output types. Light to import: no store, no model client."""
