"""Decode a JSON file one value at a time, so memory follows the largest value, never the file.

``JsonValues`` reads a text stream in chunks and decodes one JSON value at a time with the
standard library's decoder (whose messages name the expected token and position, never the
text), re-reading a value only when a chunk ends inside it — reads grow with the buffer, so a
large value is parsed O(log n) times. A value may not exceed ``max_value_chars``: past that the
file is refused (a decompression bomb or a file that is not the export it claims to be), so peak
memory is bounded by that size, whatever the file's length. ``array_items`` walks the elements
of a top-level array the same way; ``values`` walks consecutive top-level values (JSON lines).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from teamlens.errors import InputFormatError

_FIRST_READ = 1024 * 1024
_WHITE = " \t\r\n"
#: The largest single JSON value (an array element, one page) read by default: 16 Mi characters.
#: Decoded into Python objects a value takes several times its text, so this bounds the peak.
MAX_VALUE_CHARS = 16 * 1024 * 1024


class JsonValues:
    """Consecutive JSON values from a text stream, with the line and column where each starts."""

    def __init__(
        self,
        where: Path | str,
        handle: IO[str],
        *,
        hint: str,
        object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
        max_value_chars: int = MAX_VALUE_CHARS,
    ) -> None:
        self.where, self.handle, self.hint = where, handle, hint
        self.decoder = json.JSONDecoder(object_pairs_hook=object_pairs_hook)
        self.max_value_chars = max_value_chars
        self.buffer, self.pos, self.line, self.column, self.eof = "", 0, 1, 1, False

    def fail(self, problem: str, *, line: int | None = None, expected: str | None = None) -> InputFormatError:
        """The error for this stream, at ``line`` (the current one by default)."""
        return InputFormatError(
            self.where, problem, line=self.line if line is None else line, expected=expected, hint=self.hint
        )

    def _fill(self) -> bool:
        if self.eof:
            return False
        if len(self.buffer) - self.pos > self.max_value_chars:
            raise self._too_large()
        try:
            chunk = self.handle.read(max(_FIRST_READ, len(self.buffer) - self.pos))
        except UnicodeDecodeError:
            raise self.fail("is not UTF-8 text") from None
        except OSError as error:
            raise InputFormatError(self.where, f"cannot be read ({type(error).__name__})") from None
        if not chunk:
            self.eof = True
            return False
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def _too_large(self) -> InputFormatError:
        return self.fail(
            f"holds a JSON value larger than {self.max_value_chars // 2**20} Mi characters",
            expected="an export whose records or pages are each of a reasonable size",
        )

    def _advance(self, end: int) -> None:
        newlines = self.buffer.count("\n", self.pos, end)
        if newlines:
            self.line += newlines
            self.column = end - self.buffer.rfind("\n", self.pos, end)
        else:
            self.column += end - self.pos
        self.pos = end

    def peek(self) -> str | None:
        """The next character that is not white space, or None at the end."""
        while True:
            end = self.pos
            while end < len(self.buffer) and self.buffer[end] in _WHITE:
                end += 1
            self._advance(end)
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return None

    def take(self) -> None:
        """Consume the character ``peek`` returned."""
        self._advance(self.pos + 1)

    def value(self) -> Any:
        """The next JSON value (``peek`` must have found one)."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as error:
                if self._fill():
                    continue
                newlines = self.buffer.count("\n", self.pos, error.pos)
                column = (
                    error.pos - self.buffer.rfind("\n", self.pos, error.pos)
                    if newlines
                    else self.column + error.pos - self.pos
                )
                raise self.fail(
                    f"is not valid JSON at column {column}: {error.msg}", line=self.line + newlines
                ) from None
            except RecursionError:
                raise self.fail("nests JSON too deeply") from None
            if end == len(self.buffer) and not isinstance(value, dict | list | str) and self._fill():
                continue  # a number or literal at the buffer's end may continue in the next chunk
            if end - self.pos > self.max_value_chars:
                raise self._too_large()
            self._advance(end)
            return value


def array_items(stream: JsonValues, what: str) -> Iterator[tuple[int, int, Any]]:
    """The elements of the one top-level array of ``stream``: number (from 1), line, value."""
    if stream.peek() != "[":
        raise stream.fail("is not a JSON array", expected=what)
    stream.take()
    number = 0
    while True:
        char = stream.peek()
        if char == "]" and number == 0:
            stream.take()
            break
        if char is None:
            raise stream.fail("ends inside the array", expected=what)
        number += 1
        line = stream.line
        yield number, line, stream.value()
        char = stream.peek()
        if char == "]":
            stream.take()
            break
        if char != ",":
            raise stream.fail("is not valid JSON (expecting ',' or ']' between records)", expected=what)
        stream.take()
    if stream.peek() is not None:
        raise stream.fail("has text after the array", expected=what)
