"""Reading ahead in a thread keeps the order, stays a bounded distance ahead, and hands errors on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from teamlens.errors import InputFormatError
from teamlens.store._read_ahead import read_ahead


def test_items_arrive_in_order_and_all_of_them() -> None:
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(read_ahead(iter([]))) == []


def test_the_reader_runs_at_most_depth_items_ahead_of_the_consumer() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for number in range(50):
            produced.append(number)
            yield number

    consumed = 0
    for _ in read_ahead(items(), depth=2):
        consumed += 1
        time.sleep(0.002)  # a slow consumer: the reader must wait for it
        # One item in hand, two in the queue, one being offered.
        assert len(produced) - consumed <= 3
    assert consumed == 50


def test_a_reader_error_reaches_the_consumer_unchanged_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise InputFormatError("exports/report.csv", "this is not a count", line=7, field="Send Count")

    received: list[int] = []
    with pytest.raises(InputFormatError) as failure:
        received.extend(read_ahead(items()))
    assert received == [1, 2]
    assert (failure.value.line, failure.value.field) == (7, "Send Count")


def test_a_consumer_that_stops_early_stops_the_reader_thread() -> None:
    def endless() -> Iterator[int]:
        number = 0
        while True:
            number += 1
            yield number

    before = {thread.ident for thread in threading.enumerate()}
    stream = read_ahead(endless(), depth=2)
    assert [next(stream) for _ in range(5)] == [1, 2, 3, 4, 5]
    # The consumer gives up (as a failed commit does); closing must not wait on the endless reader.
    closer = threading.Thread(target=stream.close, daemon=True)
    closer.start()
    closer.join(timeout=10)
    assert not closer.is_alive(), "closing the stream waited for a reader that never ends"
    left = [t for t in threading.enumerate() if t.ident not in before and t.name == "teamlens-read-ahead"]
    assert left == []
