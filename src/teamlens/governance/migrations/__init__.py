"""Alembic migrations of the governance database; apply them with ``teamlens.governance.upgrade(url)``.

After changing ``teamlens/governance/tables.py``, add ``versions/vNNNN_<what>.py`` with its
``revision`` and ``down_revision`` (``alembic revision --autogenerate`` drafts one when an
``alembic.ini`` sets ``script_location = teamlens.governance:migrations``). The unit tests check
that the revisions build exactly the schema of ``tables.py``.
"""
