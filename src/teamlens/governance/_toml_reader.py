"""Typed, strict access to one TOML table, so every policy error names its dotted field."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from fractions import Fraction

from teamlens.errors import PolicyFieldError

_MISSING = object()


def describe(value: object) -> str:
    """Say what a TOML value is, for "expected X (got Y)" messages."""
    kind = {
        bool: "a boolean",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
        dt.date: "a date",
        dt.datetime: "a date-time",
        dt.time: "a time",
    }.get(type(value), type(value).__name__)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{kind} {shown}" if not isinstance(value, dict | list) else kind


class TomlTable:
    """One TOML table at a dotted path; refuses keys outside ``allowed`` as soon as it is built."""

    def __init__(self, data: Mapping[str, object], path: str, source: str, allowed: Sequence[str]) -> None:
        self.data = data
        self.path = path
        self.source = source
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise PolicyFieldError(
                source,
                self.field(unknown[0]),
                "unknown field",
                f"Allowed fields{' in [' + path + ']' if path else ''}: {', '.join(allowed)}. "
                "teamlens ignores nothing: remove the field or fix its spelling.",
            )

    def field(self, key: str) -> str:
        """The dotted name of ``key`` in this table, as error messages show it."""
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, problem: str, hint: str = "") -> PolicyFieldError:
        """An error about ``key`` of this table."""
        return PolicyFieldError(self.source, self.field(key), problem, hint)

    def _get(self, key: str, expected: str, default: object) -> object:
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise self.error(key, f"missing (expected {expected})")
            return default
        return value

    def _wrong(self, key: str, expected: str, value: object) -> PolicyFieldError:
        return self.error(key, f"expected {expected} (got {describe(value)})")

    def text(self, key: str, default: str | None = None, *, allow_empty: bool = False) -> str:
        """A string; empty strings are refused unless ``allow_empty``."""
        value = self._get(key, "a string", _MISSING if default is None else default)
        if not isinstance(value, str):
            raise self._wrong(key, "a string", value)
        if not allow_empty and not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def integer(self, key: str, default: int | None = None, *, minimum: int | None = None) -> int:
        """A whole number, at least ``minimum`` when given."""
        expected = "a whole number" + (f" ≥ {minimum}" if minimum is not None else "")
        value = self._get(key, expected, _MISSING if default is None else default)
        # bool is a subclass of int in Python; `true` is not a number in a policy.
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._wrong(key, expected, value)
        if minimum is not None and value < minimum:
            raise self._wrong(key, expected, value)
        return value

    def number(self, key: str, default: float | None = None) -> float:
        """A number (whole or decimal)."""
        value = self._get(key, "a number", _MISSING if default is None else default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._wrong(key, "a number", value)
        return float(value)

    def exact(self, key: str) -> Fraction:
        """An exact number: a decimal string ("0.5", "1/4") or a TOML number read through its text."""
        expected = 'an exact number such as "0.5" or "1/4"'
        value = self._get(key, expected, _MISSING)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._wrong(key, expected, value)
        try:
            # str() first: Fraction(0.1) is 3602879701896397/36028797018963968, Fraction("0.1") is 1/10.
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            raise self._wrong(key, expected, value) from None

    def boolean(self, key: str, default: bool | None = None) -> bool:
        """``true`` or ``false``."""
        value = self._get(key, "true or false", _MISSING if default is None else default)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def date(self, key: str) -> dt.date:
        """A TOML date (2026-01-05) or the same as a string; date-times are refused."""
        expected = "a date such as 2026-01-05"
        value = self._get(key, expected, _MISSING)
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise self._wrong(key, expected, value) from None
        # datetime is a subclass of date: a policy period starts on a day, not at an instant.
        if type(value) is not dt.date:
            raise self._wrong(key, expected, value)
        return value

    def strings(
        self, key: str, default: Sequence[str] | None = None, *, non_empty: bool = False
    ) -> tuple[str, ...]:
        """A list of non-empty strings without repeats."""
        expected = "a list of strings" + (" with at least one entry" if non_empty else "")
        value = self._get(key, expected, _MISSING if default is None else list(default))
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise self._wrong(key, expected, value)
        if non_empty and not value:
            raise self.error(key, f"expected {expected} (got an empty list)")
        repeated = sorted({item for item in value if value.count(item) > 1})
        if repeated:
            raise self.error(key, f"lists '{repeated[0]}' more than once")
        return tuple(value)

    def table(self, key: str, allowed: Sequence[str], *, required: bool = True) -> TomlTable:
        """A sub-table, itself strict about its keys."""
        value = self._get(key, f"a [{self.field(key)}] table", _MISSING if required else {})
        if not isinstance(value, dict):
            raise self._wrong(key, f"a [{self.field(key)}] table", value)
        return TomlTable(value, self.field(key), self.source, allowed)

    def tables(self, key: str, allowed: Sequence[str]) -> tuple[TomlTable, ...]:
        """An array of tables (``[[key]]``), at least one, each named ``key[n]`` counting from 1."""
        expected = f"one or more [[{self.field(key)}]] tables"
        value = self._get(key, expected, _MISSING)
        if not isinstance(value, list) or not value or not all(isinstance(item, dict) for item in value):
            raise self._wrong(key, expected, value)
        return tuple(
            TomlTable(item, f"{self.field(key)}[{number}]", self.source, allowed)
            for number, item in enumerate(value, start=1)
        )
