"""services (being built)."""
