"""Package data: the C2PA conformance program's asset rubrics (CC BY 4.0), read by rubric_loader.

A package (not a plain folder) so that setuptools ships the YAML files and
importlib.resources can find them; see README.md for the source and licence.
"""
