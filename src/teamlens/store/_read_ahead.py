"""Pull a stream of fact batches in a background thread while the commit stages the previous ones.

A connector's reader (parsing, pseudonymising, building Arrow arrays) and the store's staging
(checking, splitting by month, writing Parquet) both spend most of their time in Arrow's C++
code, which releases the GIL: running them in two threads uses both cores of a small server.
At most ``depth`` batches wait between the two, so memory stays bounded. An error in the reader
is raised in the consumer unchanged (the connector's ``InputFormatError`` keeps its file and
line); if the consumer stops early, the reader thread stops at its next batch.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.05


class _Finished:
    """Put on the queue after the last item."""


_FINISHED = _Finished()


def read_ahead(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield ``items`` in order, produced by a background thread up to ``depth`` items ahead."""
    handoff: queue.Queue[tuple[T | _Finished | None, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(entry: tuple[T | _Finished | None, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((item, None)):
                    return
            offer((_FINISHED, None))
        except BaseException as error:  # handed to the consumer, which raises it
            offer((None, error))

    worker = threading.Thread(target=produce, name="teamlens-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if isinstance(item, _Finished):
                return
            yield item  # type: ignore[misc]  # not None: only errors travel with None
    finally:
        stop.set()
        worker.join()
