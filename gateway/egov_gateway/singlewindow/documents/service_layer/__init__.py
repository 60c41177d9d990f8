"""Use cases: a citizen's documents of their own application."""
