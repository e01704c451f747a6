"""Tests of recall/."""
