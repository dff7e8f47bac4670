"""The Session's outbox: the events front ends collect with Session.poll(), in order.

Notices and errors are queued when they are made (by an action, a save, a reload); the other
events as poll() applies finished work. A front end that stops polling for a long time loses
the oldest messages, and is told how many at its next poll. Data only: no I/O, no threads.
"""

from __future__ import annotations

from collections import deque

from engine.events import EventKind, SessionEvent

OUTBOX_KEPT = 2000       # events kept for a front end that has not polled for a long time


class Outbox:
    """Events waiting for the next poll()."""

    def __init__(self, kept: int = OUTBOX_KEPT):
        self._events: deque[SessionEvent] = deque(maxlen=kept)
        self._dropped = 0            # messages lost because nobody polled

    def notice(self, kind: EventKind, message: str, node: int | None = None) -> SessionEvent:
        """Queue a NOTICE or an ERROR for the front ends."""
        event = SessionEvent(kind, node, message)
        if len(self._events) == self._events.maxlen:   # nobody polls: count what is lost
            self._events.popleft()
            self._dropped += 1
        self._events.append(event)
        return event

    def post(self, events: list[SessionEvent]) -> None:
        """Queue what finished work changed (messages among them were queued when made)."""
        self._events.extend(event for event in events if not event.is_message)

    def take(self) -> list[SessionEvent]:
        """Every event queued, oldest first, and a line for those lost, if any."""
        events = list(self._events)
        self._events.clear()
        if self._dropped:
            events.insert(0, SessionEvent(EventKind.ERROR, None, f"({self._dropped} earlier "
                                                                 f"messages were not shown.)"))
            self._dropped = 0
        return events
