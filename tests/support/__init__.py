"""Test and benchmark fixtures: deterministic obfuscations, clip makers, attacks (never shipped in the product packages)."""
