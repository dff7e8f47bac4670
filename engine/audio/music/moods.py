"""What each mood sounds like in the procedural score: key, mode, tempo, instruments, density.

The engine's defaults live here, one line a mood, and a world's `[audio.moods.<mood>]` tables
(engine.worlds.spec.MoodMusicSpec) override them field by field. A world also nudges the
defaults it leaves alone (the key by up to a tone, the tempo by a few percent), seeded by its
id, so two worlds playing the same mood still sound like themselves. This module is data and
small arithmetic: it renders no sound and reads no file.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

from engine.story.schema import MOODS
from engine.worlds.spec import MUSIC_INSTRUMENTS, MUSIC_MODES, MoodMusicSpec

DEFAULT_MOOD = "calm"
NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

# The scales, in semitones above the tonic.
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
    "whole_tone": (0, 2, 4, 6, 8, 10),
}
assert set(SCALES) == set(MUSIC_MODES)


@dataclass(frozen=True)
class MoodMusic:
    """How one mood is scored: everything the procedural composer needs besides the seed."""

    root: int                         # the tonic as a MIDI note number (60 = middle C)
    mode: str                         # a name from SCALES
    tempo: float                      # beats a minute
    instruments: tuple[str, ...]      # names from engine.worlds.spec.MUSIC_INSTRUMENTS
    density: float                    # 0 sparse .. 1 busy: notes a beat, drum hits, layers
    beats_per_bar: int = 4            # 3 for a waltz
    bars_per_chord: int = 1           # slow moods hold each chord for two bars
    progressions: tuple[tuple[int, ...], ...] = ((0, 4, 5, 3),)   # scale degrees, one a chord
    level_db: float = -18.0           # loudness (RMS, dBFS) the clip is mixed to
    register: int = 0                 # octaves the melody sits above the tonic's

    def as_record(self) -> dict:
        """The settings as JSON values: part of the procedural clip's cache key."""
        return {"root": self.root, "mode": self.mode, "tempo": round(self.tempo, 3),
                "instruments": list(self.instruments), "density": round(self.density, 4),
                "beats_per_bar": self.beats_per_bar, "bars_per_chord": self.bars_per_chord,
                "progressions": [list(p) for p in self.progressions],
                "level_db": self.level_db, "register": self.register}


# The engine's scoring of each mood (each world nudges key and tempo, see for_world).
DEFAULTS: dict[str, MoodMusic] = {
    "calm": MoodMusic(62, "major", 72, ("pad", "pluck", "bass"), 0.45,          # D major, harp
                      progressions=((0, 4, 5, 3), (0, 3, 0, 4), (0, 5, 3, 4)), level_db=-19.0),
    "bright": MoodMusic(67, "major", 116, ("pad", "bell", "pluck", "bass", "drums"), 0.8,
                        progressions=((0, 3, 4, 0), (0, 4, 5, 3), (3, 4, 0, 0)),   # G major
                        level_db=-17.0, register=1),
    "tense": MoodMusic(62, "phrygian", 132, ("strings", "bass", "drums", "pluck"), 0.9,
                       progressions=((0, 1, 0, 6), (0, 0, 1, 0), (0, 5, 1, 0)),   # D phrygian
                       level_db=-17.0),
    "dark": MoodMusic(48, "minor", 58, ("pad", "bass", "drums", "strings"), 0.3,  # low C minor
                      bars_per_chord=2, progressions=((0, 5, 3, 0), (0, 3, 5, 4)),
                      level_db=-19.0, register=-1),
    "eerie": MoodMusic(64, "whole_tone", 54, ("pad", "bell"), 0.25,             # E whole tone
                       bars_per_chord=2, progressions=((0, 3, 1, 4), (0, 2, 0, 5)),
                       level_db=-20.0, register=1),
    "melancholy": MoodMusic(57, "minor", 66, ("pad", "pluck", "bass"), 0.45,    # A minor waltz
                            beats_per_bar=3, progressions=((0, 5, 3, 4), (0, 3, 5, 4), (0, 3, 0, 4)),
                            level_db=-19.0),
    "triumphant": MoodMusic(58, "major", 104, ("brass", "strings", "bass", "drums"), 0.8,
                            progressions=((0, 3, 4, 0), (0, 4, 3, 4), (0, 5, 3, 4)),  # B flat
                            level_db=-16.5),
    "mysterious": MoodMusic(54, "dorian", 84, ("pad", "bell", "bass", "drums"), 0.45,  # F# dorian
                            progressions=((0, 3, 0, 6), (0, 6, 3, 0)), level_db=-19.0),
}
assert set(DEFAULTS) == set(MOODS)
assert all(set(m.instruments) <= set(MUSIC_INSTRUMENTS) for m in DEFAULTS.values())


def note_number(name: str, near: int) -> int:
    """The MIDI note of a note name ("F#", "Bb") closest to `near` (so a world's key keeps the
    register the mood was written for)."""
    pitch = (NOTE_NAMES[name[0]] + (1 if name[1:] == "#" else -1 if name[1:] == "b" else 0)) % 12
    return near + ((pitch - near + 6) % 12) - 6


def world_nudge(world_id: str, mood: str) -> tuple[int, float]:
    """How a world shifts a mood's default key (semitones, -2..2) and tempo (a factor, 0.94..1.06):
    stable, from the world's id and the mood, so the same world always sounds the same."""
    if not world_id:
        return 0, 1.0
    value = zlib.crc32(f"{world_id}\0{mood}".encode("utf-8"))
    return (value % 5) - 2, 0.94 + ((value >> 8) % 13) / 100.0


def for_world(mood: str, world_id: str = "", override: MoodMusicSpec | None = None) -> MoodMusic:
    """A mood's scoring in a world: the defaults, nudged by the world's id, then the world's own
    `[audio.moods.<mood>]` settings, which win field by field. Unknown moods score as calm."""
    base = DEFAULTS.get(mood, DEFAULTS[DEFAULT_MOOD])
    shift, pace = world_nudge(world_id, mood)
    music = replace(base, root=base.root + shift, tempo=round(base.tempo * pace, 1))
    if override is None:
        return music
    changes: dict = {}
    if override.root is not None:
        changes["root"] = note_number(override.root, base.root)
    if override.mode is not None:
        changes["mode"] = override.mode
    if override.tempo is not None:
        changes["tempo"] = float(override.tempo)
    if override.instruments is not None:
        changes["instruments"] = tuple(dict.fromkeys(override.instruments))
    if override.density is not None:
        changes["density"] = float(override.density)
    return replace(music, **changes)


__all__ = ["DEFAULTS", "MoodMusic", "SCALES", "for_world", "note_number", "world_nudge"]
