"""Pseudonymise a whole column of identifiers, hashing each distinct identifier once per file.

A long export names the same few thousand people on every block of rows. Looking each block's
distinct names up in Python costs more than reading the file, so the names already hashed are
kept as an Arrow array and matched with one vectorised lookup; only names never seen before
reach the keyed HMAC. The plain names live only in this object, for one file's read.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

#: Past this many distinct names the lookup array stops growing (rebuilding it each block would
#: cost more than it saves); later names go through the pseudonymiser's own cache instead.
_MAX_KNOWN = 200_000


class PseudonymColumn:
    """Turn string columns of identifiers into columns of pseudonyms, remembering the hashes."""

    def __init__(self, pseudonymise: Callable[[str], str]) -> None:
        self._pseudonymise = pseudonymise
        self._names = pa.array([], pa.string())
        self._hashed = pa.array([], pa.string())
        #: Every distinct pseudonym produced so far (several spellings of a name share one).
        self.seen: set[str] = set()

    def __call__(self, names: pa.Array) -> pa.Array:
        """The pseudonym of every value of ``names`` (a string array without nulls)."""
        return self.encoded(names).cast(pa.string())

    def encoded(self, names: pa.Array) -> pa.Array:
        """Like calling it, but dictionary-encoded over every pseudonym so far: no string is copied per row.

        The store takes the person column so (``store._ingest``) and looks each pseudonym up once
        per batch; beyond ``_MAX_KNOWN`` names the pseudonyms come as plain strings.
        """
        encoded = pc.dictionary_encode(names)
        distinct = encoded.dictionary
        position = pc.index_in(distinct, value_set=self._names)
        unknown = pc.is_null(position)
        if pc.any(unknown).as_py():
            fresh = pc.filter(distinct, unknown)
            fresh_hashed = pa.array([self._pseudonymise(name) for name in fresh.to_pylist()], pa.string())
            self.seen.update(fresh_hashed.to_pylist())
            if len(self._names) + len(fresh) <= _MAX_KNOWN:
                self._names = pa.concat_arrays([self._names, fresh])
                self._hashed = pa.concat_arrays([self._hashed, fresh_hashed])
                position = pc.index_in(distinct, value_set=self._names)
            else:
                hashed = pa.array([self._pseudonymise(name) for name in distinct.to_pylist()], pa.string())
                return pc.take(hashed, encoded.indices)
        return pa.DictionaryArray.from_arrays(pc.take(position, encoded.indices), self._hashed)
