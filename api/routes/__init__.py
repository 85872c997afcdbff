"""One blueprint per capability."""
