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
    MUSIC = "music"            # the scene's music is ready to play; payload a SoundCue
    VOICE = "voice"            # a line of the scene's narration is ready to be read; payload a SoundCue


@dataclass(frozen=True)
class SoundCue:
    """A clip for the front end's mixer to play (engine.session.sound makes them).

    path: the WAV or OGG file (in the clip cache, or a world's own track); key: what it is (two
    cues with one key are the same sound); mood: the scene's mood (music); text: the words it
    says (voice); index: a voice line's place in its scene (lines play in index order, and
    `last` marks the scene's final line once the narration is whole); loop: music loops;
    bar_seconds: the length of a bar of the music (0: unknown), so a new mood can come in on a
    bar line."""

    path: str
    key: str
    mood: str = ""
    text: str = ""
    index: int = 0
    last: bool = False
    loop: bool = False
    bar_seconds: float = 0.0


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


__all__ = ["EventKind", "SessionEvent", "SoundCue"]
