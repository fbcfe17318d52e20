"""Word glossaries for languages the semantic model does not read (``policies.gloss``)."""
