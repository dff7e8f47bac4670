"""Play state: where the player is in the story and what their play has added to it.

Kept apart from the story graph, as ink keeps StoryState apart from Story: the graph is what
was told, the play state is one player's position in it (the current scene, the turn, the
story's seed, the author's note, the appearance records of the characters met, the player's
profile (engine.story.persona), and whatever else play adds later). One dataclass, saved and loaded through its own to_dict/from_dict, whose
saved form is derived from its fields (engine.story.records): a new field is one edit here,
plus its test. Loading is strict, because saves come from other people too. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.errors import SaveError
from engine.story.persona import MAX_LOOK, MAX_NAME, MAX_PRONOUNS, PORTRAIT_DIGEST, tidy
from engine.story.records import shape_of
from engine.story.seeds import SEED_MAX

MAX_AUTHOR_NOTE = 500        # characters of the author's note kept from a save
MAX_CHARACTERS = 200         # appearance records kept from a save
MAX_APPEARANCE = 1000        # characters of one appearance record


@dataclass
class PlayState:
    """One player's place in a story."""

    current: int = 0          # the scene shown
    turn: int = 0             # choices and typed actions taken so far
    seed: int = 0             # the story's seed: every scene's seed derives from it
    author_note: str = ""     # the player's standing instruction to the narrator
    characters: dict[str, str] = field(default_factory=dict)   # id -> recorded appearance
    # The player's profile (engine.story.persona); "" reads as the world's suggestion.
    player_name: str = ""     # what the story calls the player
    pronouns: str = ""        # e.g. "she/her"
    look: str = ""            # a short description of the player's looks
    portrait: str = ""        # sha256 of the portrait kept in the slot folder; "" for none

    def to_dict(self) -> dict:
        """Every field, as saved (containers copied: the saver thread may write them while
        play goes on)."""
        out = {}
        for name in PLAY_SHAPE.types:
            value = getattr(self, name)
            out[name] = type(value)(value) if isinstance(value, (dict, list)) else value
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "PlayState":
        """The play state of a save, checked field by field.

        Raises:
            SaveError: naming `where` and the field, for unknown fields, wrong types and
                numbers out of range. Over-long text is cut, not refused.
        """
        if type(data) is not dict:
            raise SaveError(f"{where}: the play state is damaged.")
        unknown = data.keys() - PLAY_SHAPE.types.keys()
        if unknown:
            raise SaveError(f"{where}: the play state has unknown field(s) "
                            f"{', '.join(sorted(unknown))}. Saves may only hold what Dreamreel "
                            f"writes.")
        values = {**PLAY_SHAPE.defaults, **data}
        for name, value in values.items():
            if type(value) not in PLAY_SHAPE.types[name] or \
                    (type(value) is int and not 0 <= value <= SEED_MAX):
                raise SaveError(f"{where}: the play state's {name} is damaged.")
        characters = values["characters"]
        if not all(type(k) is str and type(v) is str and len(v) <= MAX_APPEARANCE
                   for k, v in characters.items()):
            raise SaveError(f"{where}: the character records are damaged.")
        if values["portrait"] and not PORTRAIT_DIGEST.fullmatch(values["portrait"]):
            raise SaveError(f"{where}: the play state's portrait is damaged.")
        values["author_note"] = values["author_note"][:MAX_AUTHOR_NOTE]
        values["player_name"] = tidy(values["player_name"], MAX_NAME)
        values["pronouns"] = tidy(values["pronouns"], MAX_PRONOUNS)
        values["look"] = tidy(values["look"], MAX_LOOK)
        values["characters"] = dict(list(characters.items())[:MAX_CHARACTERS])
        return cls(**values)


PLAY_SHAPE = shape_of(PlayState)

__all__ = ["PlayState", "PLAY_SHAPE"]
