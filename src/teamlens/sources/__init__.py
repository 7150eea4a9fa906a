"""sources (being built)."""
