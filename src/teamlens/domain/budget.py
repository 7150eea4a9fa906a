"""Privacy budgets as exact numbers.

A budget is a zero-concentrated-DP parameter ρ held as a ``Fraction`` so that charging and
comparing never round. Floats appear only when a budget is shown to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Self


@dataclass(frozen=True, order=True)
class Rho:
    """A zCDP budget ρ ≥ 0, exact."""

    value: Fraction

    def __post_init__(self) -> None:
        if not isinstance(self.value, Fraction):
            object.__setattr__(self, "value", Fraction(self.value))
        if self.value < 0:
            raise ValueError(f"a privacy budget cannot be negative (got {self.value})")

    @classmethod
    def of(cls, value: Fraction | int | str) -> Self:
        """Build from an exact value; strings like "0.25" or "1/4" are read exactly."""
        return cls(Fraction(value))

    @classmethod
    def zero(cls) -> Self:
        """No budget at all."""
        return cls(Fraction(0))

    def __add__(self, other: Rho) -> Rho:
        return Rho(self.value + other.value)

    def __sub__(self, other: Rho) -> Rho:
        return Rho(max(self.value - other.value, Fraction(0)))

    def scaled(self, factor: Fraction) -> Rho:
        """This budget times an exact factor (a share of it)."""
        return Rho(self.value * factor)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"ρ={float(self.value):.6g}"
