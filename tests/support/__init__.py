"""Test support shared by every test folder: where the checkout and the shared data are, and
organisations built once per session and handed to each test as its own copy (see tests/README.md)."""
