"""Names, addresses and the identifiers Microsoft 365 shows for each synthetic person.

Concealed names are random 32-hex strings drawn from the seed, not a hash of the address:
Microsoft's concealed identifiers cannot be reversed from the address either, and a hash would
let anyone holding the directory re-identify the report, which is exactly what concealment
prevents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from teamlens.synth import _words
from teamlens.synth.config import CHUNK, Stream, chunks, rng
from teamlens.synth.organisation import IntArray

#: Licences as the reports' Assigned Products column spells them, and how common each is.
PRODUCTS = (
    "MICROSOFT 365 E3",
    "MICROSOFT 365 E5",
    "MICROSOFT 365 E3+MICROSOFT 365 COPILOT",
)
_PRODUCT_SHARE = (0.75, 0.15, 0.10)
#: Contract start times and how common each is.
STARTS = ("08:00", "08:30", "09:00", "09:30", "10:00")
START_SHARE = (0.15, 0.25, 0.40, 0.12, 0.08)


@dataclass(frozen=True)
class Identities:
    """Identifiers of every person, indexed by person."""

    employee_id: tuple[str, ...]
    display_name: tuple[str, ...]
    email: tuple[str, ...]
    user_id: tuple[str, ...]  # Entra object id (a GUID), as in the Teams report's User Id
    concealed_upn: tuple[str, ...]
    concealed_name: tuple[str, ...]
    product: IntArray  # index into PRODUCTS
    start_time: IntArray  # index into STARTS


def _hex32(rng: np.random.Generator, count: int) -> list[str]:
    """``count`` random 128-bit values as 32 upper-case hex digits."""
    digits = rng.bytes(16 * count).hex().upper()
    return [digits[i : i + 32] for i in range(0, 32 * count, 32)]


def make_identities(seed: int, people: int, domain: str) -> Identities:
    """Draw a plausible, unique name, address, licence and start time for each of ``people``."""
    first: list[int] = []
    last: list[int] = []
    hexes: list[list[str]] = [[], [], []]
    products: list[int] = []
    starts: list[int] = []
    for chunk in chunks(people):
        draw = rng(seed, Stream.IDENTITY, chunk)
        first.extend(int(i) for i in draw.integers(0, len(_words.FIRST_NAMES), CHUNK))
        last.extend(int(i) for i in draw.integers(0, len(_words.SURNAMES), CHUNK))
        for column in hexes:
            column.extend(_hex32(draw, CHUNK))
        products.extend(int(i) for i in draw.choice(len(PRODUCTS), size=CHUNK, p=_PRODUCT_SHARE))
        starts.extend(int(i) for i in draw.choice(len(START_SHARE), size=CHUNK, p=START_SHARE))
    names: list[str] = []
    emails: list[str] = []
    taken: dict[str, int] = {}
    for f, s in zip(first[:people], last[:people], strict=True):
        given, family = _words.FIRST_NAMES[f], _words.SURNAMES[s]
        local = f"{given}.{family}".lower()
        # Second and later holders of a name get a number, as most tenants' provisioning does.
        count = taken.get(local, 0) + 1
        taken[local] = count
        names.append(f"{given} {family}")
        emails.append(f"{local}{count if count > 1 else ''}@{domain}")
    return Identities(
        employee_id=tuple(f"E{i + 100001:06d}" for i in range(people)),
        display_name=tuple(names),
        email=tuple(emails),
        user_id=tuple(str(uuid.UUID(hex=h.lower(), version=4)) for h in hexes[0][:people]),
        concealed_upn=tuple(hexes[1][:people]),
        concealed_name=tuple(hexes[2][:people]),
        product=np.asarray(products[:people], dtype=np.int64),
        start_time=np.asarray(starts[:people], dtype=np.int64),
    )
