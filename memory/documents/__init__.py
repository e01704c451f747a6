"""Path-routed documents: the versioned store, the notebook, skills and uploaded documents."""
