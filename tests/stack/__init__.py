"""Tests of stack/."""
