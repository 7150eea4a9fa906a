"""Tests of teamlens.sources (a package, so test module names cannot collide with other folders)."""
