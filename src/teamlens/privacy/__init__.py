"""privacy (being built)."""
