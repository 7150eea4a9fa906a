"""Tests of teamlens.synth."""
