"""World state and how scene effects change it.

World state is never stored per scene: it is derived from the effects along the path from the
root, so rollback and jumps are exact. The engine, not the model, applies effects, and clamps
them to what makes sense (an item not held cannot be dropped, numbers stay in range, unknown
characters are added with a placeholder record). This module holds no graph and no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from engine.story.schema import MAX_NAME, Effects, FlagValue

FLAG_MIN, FLAG_MAX = -999, 999   # numeric flags are clamped to this range
MAX_INVENTORY = 40               # items held at once; extra additions are ignored
MAX_FLAGS = 200                  # distinct flags; new ones past this are ignored
MAX_PRESENT = 12                 # characters present at once
_ID_RE = re.compile(r"[^a-z0-9_]+")


def as_id(name: str) -> str:
    """Turn a free-form name ("Maren Holt") into an identifier ("maren_holt")."""
    return _ID_RE.sub("_", name.strip().lower()).strip("_")[:MAX_NAME]


@dataclass(frozen=True, slots=True)
class WorldState:
    """Everything the story knows about the world at one scene. Immutable and cheap to share."""

    location: str = ""
    inventory: tuple[str, ...] = ()
    flags: Mapping[str, FlagValue] = field(default_factory=lambda: MappingProxyType({}))
    present: tuple[str, ...] = ()          # ids of the characters present
    seen: frozenset[str] = frozenset()     # sources (storylet ids) told on this path
    depth: int = 0                         # scenes since the start

    def has(self, item: str) -> bool:
        wanted = item.strip().lower()
        return any(held.lower() == wanted for held in self.inventory)

    def flag(self, name: str) -> FlagValue:
        return self.flags.get(name, 0)

    def to_dict(self) -> dict:
        return {
            "location": self.location,
            "inventory": list(self.inventory),
            "flags": dict(self.flags),
            "present": list(self.present),
            "depth": self.depth,
        }

    def facts(self) -> list[str]:
        """Short plain sentences about the state, for prompts and the terminal's status line."""
        lines = []
        if self.location:
            lines.append(f"Location: {self.location}")
        lines.append("Carrying: " + (", ".join(self.inventory) if self.inventory else "nothing"))
        if self.present:
            lines.append("Present: " + ", ".join(self.present))
        shown = {k: v for k, v in self.flags.items() if v not in (0, False, "")}
        if shown:
            lines.append("Facts: " + ", ".join(f"{k}={v}" for k, v in sorted(shown.items())))
        return lines


def initial_state(location: str = "", inventory=(), flags=None, present=()) -> WorldState:
    """Build a starting state from a world's [state] table, clamped like any effect."""
    items = tuple(dict.fromkeys(str(i).strip()[:MAX_NAME] for i in inventory if str(i).strip()))
    clamped = {as_id(k): _clamp_flag(v) for k, v in list((flags or {}).items())[:MAX_FLAGS]}
    people = tuple(dict.fromkeys(as_id(c) for c in present if as_id(c)))
    return WorldState(
        location=str(location).strip()[:MAX_NAME],
        inventory=items[:MAX_INVENTORY],
        flags=MappingProxyType({k: v for k, v in clamped.items() if k}),
        present=people[:MAX_PRESENT],
    )


def _clamp_flag(value: FlagValue) -> FlagValue:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(FLAG_MIN, min(FLAG_MAX, value))
    return str(value)[:MAX_NAME]


def apply_effects(state: WorldState, effects: Effects, source: str = "") -> WorldState:
    """Return the state after a scene with these effects is entered.

    Args:
        state: the state before the scene.
        effects: what the scene asks for (already schema-validated).
        source: the scene's source id (a storylet id), recorded in `seen`.

    Returns:
        The new state. Effects that make no sense are dropped, not errors: dropping an item that
        is not held does nothing; numbers are clamped; lists are capped.
    """
    inventory = list(state.inventory)
    for item in effects.remove_items:
        for held in inventory:
            if held.lower() == item.lower():
                inventory.remove(held)
                break
    for item in effects.add_items:
        if not state_has(inventory, item) and len(inventory) < MAX_INVENTORY:
            inventory.append(item)

    flags = dict(state.flags)
    for name, value in effects.set_flags.items():
        key = as_id(name)
        if key and (key in flags or len(flags) < MAX_FLAGS):
            flags[key] = _clamp_flag(value)
    for name, delta in effects.adjust.items():
        key = as_id(name)
        if not key or (key not in flags and len(flags) >= MAX_FLAGS):
            continue
        current = flags.get(key, 0)
        base = current if isinstance(current, int) and not isinstance(current, bool) else 0
        flags[key] = _clamp_flag(base + int(delta))

    present = [c for c in state.present if c not in {as_id(x) for x in effects.characters_leave}]
    for name in effects.characters_enter:
        cid = as_id(name)
        if cid and cid not in present and len(present) < MAX_PRESENT:
            present.append(cid)

    location = state.location
    if effects.location:
        location = effects.location.strip()[:MAX_NAME] or location

    seen = state.seen | {source} if source else state.seen
    return WorldState(
        location=location,
        inventory=tuple(inventory),
        flags=MappingProxyType(flags),
        present=tuple(present),
        seen=seen,
        depth=state.depth + 1,
    )


def state_has(inventory, item: str) -> bool:
    return any(held.lower() == item.lower() for held in inventory)
