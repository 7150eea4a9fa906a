"""One module per schema revision, oldest first; Alembic finds them by their ``revision`` ids."""
