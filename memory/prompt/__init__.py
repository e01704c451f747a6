"""Working-context assembly: the manifest, hydrating it, and the cache-stable prompt."""
