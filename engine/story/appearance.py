"""Character appearance records, so a character looks the same in every picture.

A record is made the first time a character appears in the story: from the world's character
sheet when it has one, otherwise (a character a language model introduced) from seeded traits.
Records are kept in the story (saved with it) and never change afterwards. No I/O, no models.
"""

from __future__ import annotations

from engine.story.seeds import rng_for
from engine.worlds.world import World

MAX_RECORDS = 200          # characters remembered per story
MAX_IN_PROMPT = 3          # characters described in one image prompt
_BUILDS = ("tall", "short", "broad-shouldered", "slight", "wiry", "stocky")
_AGES = ("young", "middle-aged", "elderly", "weathered")
_HAIR = ("cropped black hair", "long red hair", "grey braid", "shaved head", "curly brown hair",
         "white hair tied back", "sandy hair")
_CLOTHES = ("a patched wool coat", "an oilskin jacket", "a dark hooded cloak", "a worn uniform",
            "a leather apron", "a faded green shawl", "a long grey coat")


def appearance_for(world: World, character_id: str, story_seed: int) -> str:
    """The appearance of a character: the world's description, or seeded traits."""
    sheet = world.characters.get(character_id)
    if sheet is not None and sheet.appearance:
        return f"{sheet.name}, {sheet.appearance}"
    rng = rng_for("appearance", story_seed, character_id)
    name = sheet.name if sheet else character_id.replace("_", " ").title()
    return (f"{name}, a {rng.choice(_AGES)} {rng.choice(_BUILDS)} figure with "
            f"{rng.choice(_HAIR)}, wearing {rng.choice(_CLOTHES)}")


def record_new(records: dict[str, str], world: World, present, story_seed: int) -> bool:
    """Add records for characters seen for the first time. True when something was added."""
    added = False
    for character_id in present:
        if character_id not in records and len(records) < MAX_RECORDS:
            records[character_id] = appearance_for(world, character_id, story_seed)
            added = True
    return added


def describe(records: dict[str, str], present) -> str:
    """The appearance clause of an image prompt for the characters present."""
    shown = [records[c] for c in present if c in records][:MAX_IN_PROMPT]
    return ("featuring " + "; ".join(shown)) if shown else ""
