"""Pseudonymisation at the edge: every identifier becomes a keyed HMAC before it is stored.

Create the key once with :func:`create_key_file` (``teamlens init``), load it with
:func:`load_key`, and give a :class:`Pseudonymiser` to the sources. For the key, see
``key.py``; for the hash, ``hmac_pseudonym.py``; for the one canonical form of a look-alike
identifier (NFKC_Casefold, TR39 confusables), ``normalise.py``.
"""

from teamlens.pseudonymise.hmac_pseudonym import Pseudonymiser
from teamlens.pseudonymise.key import create_key_file, derive_key, load_key
from teamlens.pseudonymise.normalise import normalise_identifier

__all__ = ["Pseudonymiser", "create_key_file", "derive_key", "load_key", "normalise_identifier"]
