"""Recovery benchmark parts: ``data`` (clips and attacks), ``report`` (markdown and plots)."""
