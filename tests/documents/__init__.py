"""Path-routed documents: the versioned store, notebook, skills, uploaded documents."""
