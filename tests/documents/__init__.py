"""Tests of documents/."""
