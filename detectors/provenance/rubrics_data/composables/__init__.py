"""Package data: the modular sources of the compiled rubrics one level up (see ../README.md)."""
