"""One canonical form per identifier, so that look-alike spellings of one address hash alike.

An address can reach teamlens spelt in ways a person reads as the same: with a zero-width space
or a soft hyphen inside it, in full-width letters (``ａｌｉｃｅ@…``), with a Cyrillic ``а`` for the
Latin ``a``, in capitals. Each spelling would get its own pseudonym, and the person would count
twice — doubling what one person can move a release by, and so the privacy loss. The canonical
form is built in three steps, with ICU (the ``pyicu-wheels`` package bundles it):

1. **NFKC_Casefold** (Unicode's ``NFKC_CF`` mapping, UAX #15 and #44): compatibility forms folded
   (full-width and styled letters become plain ones), case folded, and every
   ``Default_Ignorable_Code_Point`` removed — the invisible characters: zero-width spaces and
   joiners, soft hyphens, byte-order marks, bidirectional marks, variation selectors, tags.
2. **Confusables** (Unicode TR39 section 4, the ``skeleton`` of ``confusables.txt``): every
   character outside ASCII is replaced by the prototype TR39 maps it to (Cyrillic ``а`` → ``a``,
   Greek ``ο`` → ``o``, ``ⅿ`` → ``rn``), then case folded again. A prototype that is the skeleton
   of one ASCII character is written as that character (``rn`` → ``m``), so a look-alike lands on
   the plain address a person means.
3. Characters inside ASCII are **left as they are**: two plain addresses that differ are two
   mailboxes to every mail server (``bill@`` and ``bi11@``; ``tom@`` and ``torn@``, whose TR39
   skeletons are equal), and an ordinary address keeps exactly the form it always had (trimmed,
   lower-cased), so pseudonyms already stored stay valid.
"""

from __future__ import annotations

import string
from functools import lru_cache

import icu

_NFKC_CF = icu.Normalizer2.getNFKCCasefoldInstance()
_NFD = icu.Normalizer2.getNFDInstance()
_SPOOF = icu.SpoofChecker()


def normalise_identifier(identifier: str) -> str:
    """Canonical form of an address or id: one form for every look-alike spelling of it (see module)."""
    text = identifier.strip()
    if text.isascii():
        return text.lower()  # what NFKC_CF gives for ASCII; the fast path for almost every address
    folded = _nfkc_casefold(text)
    if folded.isascii():
        return folded
    decomposed: str = _NFD.normalize(folded)
    return _nfkc_casefold("".join(char if char.isascii() else _prototype(char) for char in decomposed))


def _nfkc_casefold(text: str) -> str:
    folded: str = _NFKC_CF.normalize(text)
    return folded.strip()


@lru_cache(maxsize=4096)
def _prototype(char: str) -> str:
    """What TR39 says ``char`` is confusable with, case folded; an ASCII look-alike as that character."""
    prototype = _nfkc_casefold(_SPOOF.getSkeleton(0, char))
    return _ASCII_BY_SKELETON.get(prototype, prototype)


def _ascii_by_skeleton() -> dict[str, str]:
    """Skeletons of ASCII characters that are not themselves ASCII characters, back to the character."""
    found: dict[str, str] = {}
    for char in string.ascii_lowercase + string.digits + string.punctuation:
        prototype = _nfkc_casefold(_SPOOF.getSkeleton(0, char))
        if prototype != char and len(prototype) > 1:
            found.setdefault(prototype, char)
    return found


_ASCII_BY_SKELETON = _ascii_by_skeleton()
