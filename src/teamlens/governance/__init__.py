"""governance (being built)."""
