"""Bundled policy packs (YAML), read with importlib.resources."""
