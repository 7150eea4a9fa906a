"""Tests of teamlens.store (a package, so test module names cannot collide with other folders)."""
