"""Forgetting an end user of a tenant, or a whole tenant, in every layer."""
