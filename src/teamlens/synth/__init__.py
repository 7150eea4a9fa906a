"""synth (being built)."""
