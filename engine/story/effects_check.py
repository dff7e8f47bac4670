"""Checking a language model's scene effects against the world before they are applied.

A model's draft has already passed the schema (engine.story.schema.LLMEffects bounds its shape), but
the schema cannot know the world: which characters exist, where the story can go, which flags
the storylets read, what the player carries. This module is the second line. It maps what a
model wrote to the world's own ids ("Maren Holt" -> "maren", "the old lighthouse" ->
"lighthouse"), clamps numbers to small steps, cleans item names, and drops whatever cannot be
mapped: the player named as a character ("You"), unknown places and people, junk flag names
("rebel: ", ""), and items the player does not carry. Dropping is never an error: the scene is
kept, only the effect goes, and each drop is explained in the returned notes.

Authored effects (the storylet narrator's) are trusted and never pass through here. This module
reads the world and a state; it changes neither and does no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.story.schema import MAX_NAME, Effects, FlagValue
from engine.story.state import WorldState, as_id
from engine.text import without_controls
from engine.worlds.world import World

MAX_STEP = 3           # a flag moves at most this much in one scene
MAX_CHANGES = 3        # flags set, flags adjusted, items added or removed, people moving
MAX_ITEM_CHARS = 30    # an item name is cut (at a word) to this length
MAX_ITEM_WORDS = 4

_FLAG_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]{0,38}[A-Za-z0-9]$")
_ITEM_JUNK = re.compile(r"[{}\[\]<>\"\\|=#*`~^]")
_EDGE = " \t'\".,;:!?()-_"
_ARTICLES = ("the ", "a ", "an ", "some ", "your ", "my ")
_PLAYER_WORDS = frozenset({"you", "your", "yourself", "player", "the_player", "me", "myself",
                           "i", "narrator", "protagonist", "hero"})
_NO_ITEM = frozenset({"nothing", "none", "null", "n_a", "item", "items", "empty"})
_CONDITION_LOCATION = re.compile(r"""location\s*(?:==|!=)\s*['"]([^'"]{1,40})['"]""")


@dataclass(frozen=True)
class WorldTerms:
    """What a world names: its characters (by id, full name and unambiguous name words), the
    locations its storylets use, and the flags they set or read."""

    characters: dict[str, str]     # lookup key -> character id
    locations: dict[str, str]      # as_id(location) -> the location as the world spells it
    flags: dict[str, FlagValue]    # flag id -> a value of its type (from the world's effects)
    player: frozenset[str]         # ids that mean the player


def world_terms(world: World) -> WorldTerms:
    """Collect the names a world uses (cheap: one pass over its storylets)."""
    characters: dict[str, str] = {}
    word_owners: dict[str, set[str]] = {}
    for spec in world.spec.characters:
        characters[spec.id] = spec.id
        characters.setdefault(as_id(spec.name), spec.id)
        for word in as_id(spec.name).split("_"):
            if len(word) >= 3:
                word_owners.setdefault(word, set()).add(spec.id)
    for word, owners in word_owners.items():
        if len(owners) == 1:
            characters.setdefault(word, next(iter(owners)))

    locations: dict[str, str] = {}
    flags: dict[str, FlagValue] = dict(world.initial_state().flags)

    def add_location(name: str) -> None:
        if as_id(name):
            locations.setdefault(as_id(name), name.strip())

    add_location(world.spec.state.location)
    for storylet in world.storylets.values():
        spec = storylet.spec
        if spec.effects.location:
            add_location(spec.effects.location)
        for name, value in spec.effects.set_flags.items():
            flags.setdefault(as_id(name), value)
        for name in spec.effects.adjust:
            flags.setdefault(as_id(name), 0)
        conditions = " ".join([spec.when] + [choice.when for choice in spec.choices])
        for name in _CONDITION_LOCATION.findall(conditions):
            add_location(name)
    player = frozenset(_PLAYER_WORDS | {as_id(world.spec.player.name)}) - {""}
    return WorldTerms(characters, locations, flags, player)


def check_effects(effects: Effects, world: World, state: WorldState,
                  terms: WorldTerms | None = None) -> tuple[Effects, list[str]]:
    """The effects a model asked for, made to fit the world, and what was dropped or changed.

    Args:
        effects: the draft's effects (already schema-valid).
        world: the world being played (characters, storylets' locations and flags).
        state: the world state before the scene (what is carried, who is present).
        terms: world_terms(world), when the caller keeps it between scenes.

    Returns:
        (checked effects, notes): each note says in plain words what was dropped or changed
        and why, for the prompt inspector.
    """
    terms = terms or world_terms(world)
    notes: list[str] = []
    checked = Effects(
        location=_location(effects.location, terms, state, notes),
        add_items=_add_items(effects.add_items, state, notes),
        remove_items=_remove_items(effects.remove_items, state, notes),
        set_flags=_set_flags(effects.set_flags, terms, state, notes),
        adjust=_adjust(effects.adjust, terms, state, notes),
        characters_enter=_people(effects.characters_enter, "enter", terms, state, notes),
        characters_leave=_people(effects.characters_leave, "leave", terms, state, notes),
    )
    return checked, notes


# -- people and places ----------------------------------------------------------------------
def character_id(name: str, terms: WorldTerms) -> str | None:
    """The world's id for a name a model wrote ("Maren", "Maren Holt", "maren"), or None for
    the player and for anyone the world does not know."""
    key = as_id(name)
    if not key or key in terms.player or (key.startswith("the_") and key[4:] in terms.player):
        return None
    if key in terms.characters:
        return terms.characters[key]
    owners = {terms.characters[w] for w in key.split("_") if w in terms.characters}
    return owners.pop() if len(owners) == 1 else None


def _people(names: list[str], way: str, terms: WorldTerms, state: WorldState,
            notes: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        cid = character_id(name, terms)
        if cid is None:
            who = "the player" if as_id(name) in terms.player else "nobody this world knows"
            notes.append(f"characters_{way} {name!r}: {who}; dropped")
        elif way == "enter" and cid in state.present:
            notes.append(f"characters_enter {name!r}: already present; dropped")
        elif way == "leave" and cid not in state.present:
            notes.append(f"characters_leave {name!r}: not present; dropped")
        elif cid not in out and len(out) < MAX_CHANGES:
            out.append(cid)
    return out


def location_of(name: str, terms: WorldTerms) -> str | None:
    """The world's spelling of a place a model named ("The Harbour" -> "harbour"), or None."""
    key = as_id(name)
    for article in ("the_", "a_", "an_"):
        if key.startswith(article):
            key = key[len(article):]
    if key in terms.locations:
        return terms.locations[key]
    words = set(key.split("_"))
    found = [place for known, place in terms.locations.items()
             if known and set(known.split("_")) <= words]
    return found[0] if len(found) == 1 else None


def _location(name: str | None, terms: WorldTerms, state: WorldState,
              notes: list[str]) -> str | None:
    if not name:
        return None
    place = location_of(name, terms)
    if place is None:
        notes.append(f"location {name!r}: not a place in this world; dropped")
        return None
    return None if place == state.location else place


# -- flags ------------------------------------------------------------------------------------
def flag_id(name: str) -> str | None:
    """A flag's id when the name is well formed ("Maren trust" -> "maren_trust"), else None:
    empty names and names with punctuation ("rebel: ") are junk, not flags."""
    stripped = name.strip()
    if not _FLAG_NAME.match(stripped):
        return None
    return as_id(stripped) or None


def _kind(value: FlagValue) -> type:
    return bool if isinstance(value, bool) else int if isinstance(value, int) else str


_KIND_WORDS = {bool: "true or false", int: "a number", str: "a word"}


def _current(key: str, terms: WorldTerms, state: WorldState) -> FlagValue | None:
    if key in state.flags:
        return state.flags[key]
    return terms.flags.get(key)


def _set_flags(flags: dict[str, FlagValue], terms: WorldTerms, state: WorldState,
               notes: list[str]) -> dict[str, FlagValue]:
    out: dict[str, FlagValue] = {}
    for name, value in flags.items():
        key = flag_id(name)
        if key is None:
            notes.append(f"set_flags {name!r}: not a flag name; dropped")
            continue
        current = _current(key, terms, state)
        if current is not None and _kind(current) is not _kind(value):
            notes.append(f"set_flags {name!r}={value!r}: the world keeps "
                         f"{_KIND_WORDS[_kind(current)]} there; dropped")
            continue
        if isinstance(value, bool):
            pass
        elif isinstance(value, int):
            base = current if isinstance(current, int) else 0
            stepped = max(base - MAX_STEP, min(base + MAX_STEP, value))
            if stepped != value:
                notes.append(f"set_flags {name!r}={value}: moved at most {MAX_STEP}, to {stepped}")
            value = stepped
        else:
            value = " ".join(str(value).split())[:MAX_NAME]
            if not value:
                notes.append(f"set_flags {name!r}: empty value; dropped")
                continue
        if len(out) < MAX_CHANGES:
            out[key] = value
    return out


def _adjust(deltas: dict[str, int], terms: WorldTerms, state: WorldState,
            notes: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, delta in deltas.items():
        key = flag_id(name)
        if key is None:
            notes.append(f"adjust {name!r}: not a flag name; dropped")
            continue
        current = _current(key, terms, state)
        if isinstance(delta, bool) or (current is not None and _kind(current) is not int):
            notes.append(f"adjust {name!r}: not a number in this world; dropped")
            continue
        step = max(-MAX_STEP, min(MAX_STEP, int(delta)))
        if step != delta:
            notes.append(f"adjust {name!r} by {delta}: clamped to {step}")
        if step and (key in out or len(out) < MAX_CHANGES):
            out[key] = max(-MAX_STEP, min(MAX_STEP, out.get(key, 0) + step))
    return out


# -- items ------------------------------------------------------------------------------------
def item_name(name: str) -> str | None:
    """A clean item name ("  a rusty KEY. " -> "rusty KEY"), cut to a few words, or None for
    junk (markup, no letters, "nothing")."""
    text = " ".join(without_controls(name, keep="").split())
    text = text.strip(_EDGE)
    lowered = text.lower()
    for article in _ARTICLES:
        if lowered.startswith(article):
            text = text[len(article):].strip(_EDGE)
            break
    if not text or _ITEM_JUNK.search(text) or not any(ch.isalpha() for ch in text):
        return None
    words = text.split()[:MAX_ITEM_WORDS]
    while len(" ".join(words)) > MAX_ITEM_CHARS and len(words) > 1:
        words.pop()
    text = " ".join(words)[:MAX_ITEM_CHARS].strip(_EDGE)
    return None if not text or as_id(text) in _NO_ITEM else text


def _held(name: str, inventory) -> str | None:
    key = as_id(name)
    for held in inventory:
        if held.lower() == name.lower() or as_id(held) == key:
            return held
    return None


def _add_items(names: list[str], state: WorldState, notes: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        item = item_name(name)
        if item is None:
            notes.append(f"add_items {name!r}: not an item name; dropped")
        elif _held(item, state.inventory) or _held(item, out):
            notes.append(f"add_items {name!r}: already carried; dropped")
        elif len(out) < MAX_CHANGES:
            out.append(item)
    return out


def _remove_items(names: list[str], state: WorldState, notes: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        item = item_name(name)
        held = _held(item, state.inventory) if item else None
        if held is None:
            notes.append(f"remove_items {name!r}: not carried; dropped")
        elif held not in out and len(out) < MAX_CHANGES:
            out.append(held)
    return out


__all__ = ["MAX_STEP", "WorldTerms", "world_terms", "check_effects", "character_id",
           "location_of", "flag_id", "item_name"]
