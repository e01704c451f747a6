"""Tests of conversation/."""
