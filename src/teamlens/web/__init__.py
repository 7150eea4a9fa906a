"""web (being built)."""
