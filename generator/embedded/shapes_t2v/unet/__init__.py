"""Model files (package data), not code."""
