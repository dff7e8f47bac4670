"""Save upgrades: the steps that bring an older save up to the format this Dreamreel writes.

Each step takes a snapshot of one version (plain JSON data, as read) and returns it in the next
version's shape, so a save made by any supported Dreamreel loads in this one. Steps are listed
in order, one per version, the way a save upgrader lists its migrations; add one with every
change to what a save holds, plus a test that loads a real save of the older version
(tests/engine/saves/data/). Steps only reshape data: the strict checks run after them.
"""

from __future__ import annotations

from typing import Callable


def _seed_into_play_state(data: dict) -> dict:
    """Version 1 -> 2: the story's seed moved from the top level into the play state."""
    play = data.get("play")
    if isinstance(play, dict) and "seed" in data:
        play.setdefault("seed", data.pop("seed"))
    return data


def _pace_on_scenes(data: dict) -> dict:
    """Version 2 -> 3: a scene may record how long the player took to choose it (pace_ms,
    read by the player model); older scenes have no such record, which reads as unmeasured."""
    return data


def _player_profile(data: dict) -> dict:
    """Version 3 -> 4: the play state may hold the player's profile (player_name, pronouns,
    look, portrait); an older story has none, which reads as the world's suggestions."""
    return data


# version -> the step that turns a snapshot of that version into one of the next
STEPS: dict[int, Callable[[dict], dict]] = {
    1: _seed_into_play_state,
    2: _pace_on_scenes,
    3: _player_profile,
}
VERSION = max(STEPS) + 1    # the version this Dreamreel writes

__all__ = ["STEPS", "VERSION"]
