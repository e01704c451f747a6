"""Client scripts that start, update and query the workflows."""
