"""teamlens: team-level collaboration insight that no one can turn into per-worker surveillance.

The flow: a processing policy (``governance``) is written, consulted on and approved by both the
employer and workers' representatives; only then do ``sources`` read metadata exports, turning
every identifier into a keyed pseudonym (``pseudonymise``) and keeping only the policy's metrics;
the ``store`` keeps person × period facts in Parquet; the ``privacy`` engine releases
team-level means with OpenDP noise, charging an exact budget ledger. ``services`` combine these
for the ``cli`` and the ``web`` app. Shared types are in ``domain``; errors in ``errors``.
"""

__version__ = "0.1.0"
