"""Unit tests of ``teamlens.governance`` (a package, so its module names cannot clash with other folders')."""
