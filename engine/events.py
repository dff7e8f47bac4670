"""What a Session tells its front ends: one typed stream of events, read with Session.poll().

Everything a front end needs to know arrives here and only here: a scene told or prefetched,
streamed words, painting progress, a finished picture, and the notices and errors made by the
story's own work or by the player's actions (a save, a hot reload, a failed autosave). A front
end calls poll() every frame (or wait() in a script) and reacts to the kinds it cares about; it
never polls the Session's attributes for changes. This module holds data only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """The kinds of SessionEvent. A StrEnum, so each is also its plain name ("scene")."""

    SCENE = "scene"            # the current scene was told; payload None
    PREFETCHED = "prefetched"  # a scene ahead of the player was told; payload None
    TOKEN = "token"            # words streamed into a scene being told; payload the text
    PROGRESS = "progress"      # painting progress of a scene's picture; payload 0.0..1.0
    IMAGE = "image"            # a scene's picture is ready in memory; payload its cache key
    NOTICE = "notice"          # something the player should know; payload the message
    ERROR = "error"            # something went wrong and play goes on; payload the message


@dataclass(frozen=True)
class SessionEvent:
    """One thing that changed: its kind, the scene it concerns (None: the story as a whole) and
    a payload whose meaning the kind gives (see EventKind)."""

    kind: EventKind
    node: int | None = None
    payload: Any = None

    @property
    def is_message(self) -> bool:
        """True for notices and errors, the events a front end shows as text."""
        return self.kind in (EventKind.NOTICE, EventKind.ERROR)


__all__ = ["EventKind", "SessionEvent"]
