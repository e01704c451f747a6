"""Tests of wiring/."""
