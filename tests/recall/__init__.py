"""The recall store, embedders, and embedding-model migrations."""
