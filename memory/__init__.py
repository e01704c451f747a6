"""Memory layers as plain async Python over the stores. Knows nothing of Temporal."""
