"""Tests of learning/."""
