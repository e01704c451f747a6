"""The embedded dev stack, the production compose file and the Temporal UI."""
