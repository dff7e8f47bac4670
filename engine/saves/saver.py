"""The autosave thread: writes saves in order off the caller's thread, and reports how each went.

The frame loop never waits for fsync: a Session hands each autosave to its Saver as a function
and goes on. The Saver keeps the outcome of every write (None for a success, the SaveError for a
failure) for its owner to collect on its own thread, so a failure is never lost and a recovery
can be told too. close() waits for what is queued and ends the thread; a closed Saver writes
nothing more. give_memory_back() hands memory freed by big transient work (a full snapshot, a
closed story) back to the system. This module knows nothing of the files it writes or of the
Session.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

from engine.errors import SaveError

_STOP = object()


class Saver:
    """Writes autosaves on one background thread, in order. The thread starts with the first
    write, so a story that never autosaves (a read-only copy) costs no thread."""

    def __init__(self):
        self._queue: "queue.Queue" = queue.Queue()
        self._outcomes: list[SaveError | None] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, write: Callable[[], None]) -> None:
        """Queue a write. Raises SaveError once the Saver is closed (the story was closed)."""
        with self._lock:
            if self._closed:
                raise SaveError("This story was closed; it is no longer saved.")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="dreamreel-saver",
                                                daemon=True)
                self._thread.start()
            self._queue.put(write)

    def flush(self) -> None:
        """Block until every queued write is on disk (before a manual save, a load, an exit)."""
        self._queue.join()

    def outcomes(self) -> list[SaveError | None]:
        """What happened to each write since the last call, in order: None for a write that
        reached the disk, the SaveError for one that did not."""
        with self._lock:
            done, self._outcomes = self._outcomes, []
        return done

    def failures(self) -> list[SaveError]:
        """The failures among the outcomes since the last call (the successes are dropped)."""
        return [outcome for outcome in self.outcomes() if outcome is not None]

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, then end the thread. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the writing thread is running (tests count threads)."""
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            write = self._queue.get()
            if write is _STOP:
                self._queue.task_done()
                return
            outcome: SaveError | None = None
            try:
                write()
            except SaveError as err:
                outcome = err
            except Exception as err:  # never let the saver thread die silently
                outcome = SaveError(f"{type(err).__name__}: {err}")
            finally:
                with self._lock:   # a run of successes is one success: the list stays short
                    if outcome is not None or not self._outcomes or self._outcomes[-1] is not None:
                        self._outcomes.append(outcome)
                self._queue.task_done()


def give_memory_back() -> None:
    """Return the memory a closed story freed to the system where the C library keeps it
    (glibc's malloc holds freed memory in per-thread heaps): a game that loads story after
    story stays the same size. A no-op elsewhere."""
    global _TRIM
    if _TRIM is None:
        _TRIM = False
        try:
            import ctypes
            _TRIM = ctypes.CDLL(None).malloc_trim   # the process's own C library (glibc)
        except (OSError, AttributeError, TypeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM = None


__all__ = ["Saver", "give_memory_back"]
