"""The player's profile: who the player is in this story (name, pronouns, look, portrait).

Kept in the play state (engine.story.playstate: player_name, pronouns, look, portrait) and
saved with the story; a field left empty there reads as the world's suggestion (world.toml
[player]: name, pronouns, look), so stories saved before profiles existed still have a hero.
Every prompt gets it through one template name, `player` (name, pronouns, look, role), and the
look becomes the player's appearance record in image prompts where the player is in frame.
No I/O here: the portrait file is checked and kept by engine.saves.portrait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_NAME = 40          # characters of the player's name
MAX_PRONOUNS = 30      # characters of the pronouns ("she/her", "they/them")
MAX_LOOK = 300         # characters of the look: a short description, not a biography
PORTRAIT_DIGEST = re.compile(r"^[0-9a-f]{64}$")   # a portrait is named by its sha256

# Words that put the player in the picture: the narration and image prompts speak of the
# player in the second person.
_YOU = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)
_FIRST_SENTENCE = re.compile(r"[^.!?]*[.!?]?")


def tidy(text: str, limit: int) -> str:
    """One line of profile text: whitespace folded, control characters dropped, cut."""
    text = "".join(ch for ch in str(text) if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:limit]


@dataclass(frozen=True)
class Persona:
    """The player's profile as prompts and painters see it (the world's suggestions filled in).

    Attributes:
        name: what the story calls the player.
        pronouns: e.g. "she/her"; "" when none were given.
        look: a short description of the player's looks; "" when none was given.
        role: the world's player role ("a lighthouse keeper's apprentice").
        portrait: the sha256 of the player's portrait picture, "" for none. The picture itself
            stays in the story's slot folder and is never sent to a server.
    """

    name: str
    pronouns: str = ""
    look: str = ""
    role: str = ""
    portrait: str = ""

    def template_context(self) -> dict:
        """The `player` name of every template: name, pronouns, look, role."""
        return {"name": self.name, "pronouns": self.pronouns, "look": self.look,
                "role": self.role}

    def appearance(self) -> str:
        """The player's appearance record for image prompts ("" without a look)."""
        return f"{self.name}, {self.look}" if self.look else ""


def persona_of(world, play) -> Persona:
    """The player's profile in a story: the play state's fields, or the world's suggestions
    where the play state has none (engine.worlds.spec.PlayerSpec)."""
    suggested = world.spec.player
    return Persona(name=tidy(play.player_name or suggested.name, MAX_NAME) or "Traveller",
                   pronouns=tidy(play.pronouns or suggested.pronouns, MAX_PRONOUNS),
                   look=tidy(play.look or suggested.look, MAX_LOOK),
                   role=world.spec.player_role, portrait=play.portrait)


def default_persona(world) -> Persona:
    """The player as the world suggests them, for prompts rendered without a story."""
    suggested = world.spec.player
    return Persona(name=suggested.name, pronouns=suggested.pronouns, look=suggested.look,
                   role=world.spec.player_role)


def in_frame(persona: Persona, *texts: str) -> bool:
    """Whether a scene's picture shows the player.

    The rule: the scene's image prompt, or the first sentence of its narration, speaks of the
    player, in the second person ("you", "your", "yourself") or by the player's name (a whole
    word, any case). Pass the image prompt first and the narration second: only the
    narration's first sentence counts, since the rest of a scene written to "you" wanders off
    to what the player sees. A scene whose picture is a place alone ("a lighthouse at dusk",
    opening on "The lamp turns.") does not show the player.
    """
    name = persona.name.strip()
    name_rule = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE) if name else None
    for index, text in enumerate(texts):
        if not text:
            continue
        if index > 0:
            text = _FIRST_SENTENCE.match(text.strip()).group(0)
        if _YOU.search(text) or (name_rule is not None and name_rule.search(text)):
            return True
    return False


__all__ = ["Persona", "persona_of", "default_persona", "in_frame", "tidy", "MAX_NAME", "MAX_PRONOUNS", "MAX_LOOK",
           "PORTRAIT_DIGEST"]
