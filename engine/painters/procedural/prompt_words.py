"""How the procedural painter reads an image prompt: keyword tables and `parse_prompt`.

The tables map words to what they ask for (time of day, weather, terrain, mood, accent colour,
style) and to the layout: a landscape, an interior or a view of space. `parse_prompt` matches
whole words, case-insensitive, plurals allowed, and returns a `SceneSpec`. What a world declares
(`[picture place=.. time=.. weather=.. lights=..]` for the scene, `[location ...]` for its place,
see docs/MODDING.md) overrides or fills in what the words suggest.

This module only reads text: it must not draw, choose colours or light (`lighting.py`), use
randomness, import numpy, or keep state between calls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TIME_WORDS = {
    "dawn": ("dawn", "sunrise", "daybreak", "first light"),
    "morning": ("morning",),
    "noon": ("noon", "midday", "high sun", "daylight", "daytime"),
    "afternoon": ("afternoon", "golden hour", "late day"),
    "dusk": ("dusk", "sunset", "twilight", "evening", "sundown", "gloaming"),
    "night": ("night", "midnight", "moonlit", "moonlight", "nighttime", "moon", "starlit", "starry", "star"),
}
WEATHER_WORDS = {
    "fog": ("fog", "foggy", "mist", "misty", "haze", "hazy"),
    "rain": ("rain", "rainy", "raining", "drizzle", "downpour", "wet"),
    "storm": ("storm", "stormy", "lightning", "thunder", "thunderstorm", "tempest", "gale"),
    "snow": ("snowing", "blizzard", "snowfall", "snowflake", "sleet", "falling snow", "snowstorm"),
    "clouds": ("cloud", "cloudy", "overcast"),
    "clear": ("clear", "cloudless"),
}
TERRAIN_WORDS = {
    "sea": ("sea", "ocean", "harbour", "harbor", "bay", "coast", "shore", "beach", "lake", "river", "fjord",
            "port", "wave", "pier", "dock", "island", "ship", "boat", "sail", "water"),
    "cliffs": ("cliff", "crag", "headland", "bluff"),
    "mountains": ("mountain", "peak", "summit", "alps", "volcano", "ridge"),
    "hills": ("hill", "meadow", "field", "valley", "plain", "moor", "grassland", "countryside", "farm", "road"),
    "forest": ("forest", "wood", "woods", "tree", "grove", "jungle", "pine", "glade", "orchard", "woodland"),
    "town": ("village", "town", "city", "building", "house", "street", "market", "rooftop", "castle",
             "fortress", "citadel", "ruin", "temple", "church", "skyline", "cottage", "hamlet", "metropolis"),
    "tower": ("tower", "spire", "watchtower"),
    "lighthouse": ("lighthouse",),
    "desert": ("desert", "dune", "sand", "oasis", "wasteland", "badlands"),
    "snowfield": ("snowfield", "tundra", "glacier", "ice", "arctic", "frozen", "icefield", "snow", "snowy",
                  "winter", "wintry"),
}
INTERIOR_WORDS = ("interior", "inside", "indoors", "room", "corridor", "hallway", "hall", "chamber",
                  "cellar", "dungeon", "crypt", "library", "bedroom", "kitchen", "attic", "study",
                  "office", "passage", "throne", "ballroom", "cathedral", "tunnel", "bunker", "lab", "laboratory",
                  "airlock", "bulkhead", "console", "consoles", "cockpit", "cryo", "hydroponics",
                  "reactor", "deck", "ship bay", "cargo bay", "docking bay", "cryosleep", "pod",
                  "locker", "workshop", "galley", "quarters", "lamp room")
INTERIOR_IF_ALONE = ("cabin", "tavern", "inn", "hut", "shop")  # inside unless a landscape is named
SPACE_WORDS = ("space", "station", "starship", "spaceship", "spacecraft", "orbit", "orbital", "planet",
               "nebula", "galaxy", "asteroid", "cosmos", "outer space")
MOOD_WORDS = {
    "calm": ("calm", "peaceful", "serene", "tranquil", "quiet", "gentle", "cozy", "cosy", "idyllic"),
    "bright": ("bright", "cheerful", "sunny", "vivid", "hopeful", "joyful", "vibrant"),
    "tense": ("tense", "danger", "dangerous", "ominous", "threatening", "urgent", "battle", "war", "burning"),
    "dark": ("dark", "moody", "grim", "bleak", "shadowy", "gloomy", "sinister", "noir"),
    "eerie": ("eerie", "haunted", "ghost", "ghostly", "uncanny", "spooky", "creepy", "cursed"),
    "melancholy": ("melancholy", "melancholic", "sad", "lonely", "sorrow", "mournful", "forlorn", "abandoned",
                   "wistful", "muted"),
    "triumphant": ("triumphant", "victory", "victorious", "glorious", "heroic", "epic", "majestic"),
    "mysterious": ("mysterious", "mystery", "mystic", "mystical", "arcane", "enigmatic", "magic", "magical",
                   "secret", "ancient"),
}
COLOUR_WORDS = {  # accent colours that tint the grade a little
    "teal": "#2f9c95", "amber": "#ffb347", "gold": "#ffc94d", "golden": "#ffc94d", "crimson": "#c0263c",
    "red": "#d03a2f", "blue": "#3f6fd8", "green": "#3f9f4f", "emerald": "#2fa36b", "purple": "#8a4fd0",
    "violet": "#8a4fd0", "orange": "#f08a30", "pink": "#f07aa8", "silver": "#c8d0dc", "copper": "#c87533",
}
# A declared place (world.toml [locations.*] or a storylet's `picture`): its layout and terrain,
# which replace what the prompt's words suggest, so a moor's "sea on both sides" paints no harbour.
PLACES = {
    "moor": ("landscape", ("hills",)), "hills": ("landscape", ("hills",)),
    "harbour": ("landscape", ("sea", "town")), "town": ("landscape", ("hills", "town")),
    "lighthouse": ("landscape", ("lighthouse", "cliffs", "sea")), "cliffs": ("landscape", ("cliffs", "sea")),
    "flats": ("landscape", ("sea",)), "sea": ("landscape", ("sea",)),
    "forest": ("landscape", ("forest",)), "mountains": ("landscape", ("mountains",)),
    "desert": ("landscape", ("desert",)), "snowfield": ("landscape", ("snowfield",)),
    "caves": ("interior", ()), "interior": ("interior", ()), "space": ("space", ()),
}
DECLARED_TIMES = {"day": "noon"}  # a declared time that is not itself a TIME_WORDS key
_DECLARATION = re.compile(r"\[(picture|location)((?:\s+[a-z]+=[a-z]+)*)\s*\]")
UNLIT_WORDS = ("unlit lighthouse", "dark lighthouse", "lighthouse standing dark", "lighthouse dark")
MONOCHROME_WORDS = ("monochrome", "black and white", "noir", "sepia", "grayscale", "greyscale")
PIXEL_WORDS = ("pixel art", "pixel", "8-bit", "16-bit", "retro game")


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a word list: whole words, optional plural."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})(?:s|es)?\b")


def _first(text: str, pattern: re.Pattern[str]) -> int:
    match = pattern.search(text)
    return match.start() if match else -1


_TIME = {k: _pattern(v) for k, v in TIME_WORDS.items()}
_WEATHER = {k: _pattern(v) for k, v in WEATHER_WORDS.items()}
_TERRAIN = {k: _pattern(v) for k, v in TERRAIN_WORDS.items()}
_MOOD = {k: _pattern(v) for k, v in MOOD_WORDS.items()}
_COLOUR = {k: _pattern((k,)) for k in COLOUR_WORDS}
_INTERIOR, _INTERIOR_ALONE = _pattern(INTERIOR_WORDS), _pattern(INTERIOR_IF_ALONE)
_SPACE, _STARS = _pattern(SPACE_WORDS), _pattern(("stars", "starfield"))
_MONO, _PIXEL = _pattern(MONOCHROME_WORDS), _pattern(PIXEL_WORDS)
_UNLIT = _pattern(UNLIT_WORDS)


@dataclass(frozen=True)
class SceneSpec:
    """What the prompt asks for; None / empty where it does not say."""

    layout: str  # "landscape", "interior" or "space"
    time: str | None  # a TIME_WORDS key
    weather: frozenset[str]
    terrain: frozenset[str]
    moods: tuple[str, ...]  # MOOD_WORDS keys in prompt order, at most three
    colours: tuple[str, ...]  # COLOUR_WORDS keys
    words: str  # the normalised prompt, for finer choices (e.g. "castle", "corridor")
    monochrome: bool = False
    pixel_art: bool = False
    place: str | None = None  # a declared PLACES key: its terrain is not guessed from words
    lights: bool | None = None  # declared lit / unlit lamps, windows and beams; None: by the hour


def declarations(prompt: str, kind: str) -> dict[str, str]:
    """The `[picture place=.. time=.. weather=.. lights=..]` (kind "picture": the scene's own)
    or `[location ...]` markers in a prompt, merged: the first value of each field wins."""
    found: dict[str, str] = {}
    for match in _DECLARATION.finditer(prompt.lower()):
        if match.group(1) == kind:
            for pair in match.group(2).split():
                key, _, value = pair.partition("=")
                found.setdefault(key, value)
    return found


def _declared_time(value: str | None) -> str | None:
    value = DECLARED_TIMES.get(value or "", value)
    return value if value in TIME_WORDS else None


def parse_prompt(prompt: str) -> SceneSpec:
    """Read an image prompt with the keyword tables (case-insensitive, plurals allowed); what
    the prompt declares in `[picture ...]` markers overrides what its words suggest."""
    own, where = declarations(prompt, "picture"), declarations(prompt, "location")
    text = " ".join(re.findall(r"[a-z0-9'-]+", _DECLARATION.sub(" ", prompt.lower())))
    times = sorted((p, k) for k, pat in _TIME.items() if (p := _first(text, pat)) >= 0)
    moods = sorted((p, k) for k, pat in _MOOD.items() if (p := _first(text, pat)) >= 0)
    weather = frozenset(k for k, pat in _WEATHER.items() if pat.search(text))
    terrain = {k for k, pat in _TERRAIN.items() if pat.search(text)}
    if _INTERIOR.search(text) or (_INTERIOR_ALONE.search(text) and not terrain):
        layout = "interior"
    elif _SPACE.search(text) or (_STARS.search(text) and not terrain):
        layout = "space"
    else:
        layout = "landscape"
        if _INTERIOR_ALONE.search(text):
            terrain.add("town")
    # the scene's own declaration overrides the words; the location's fills in what they leave
    place = own.get("place") if own.get("place") in PLACES else None
    if place is None and where.get("place") in PLACES and layout == "landscape":
        place = where["place"]   # a location never turns a room or a view of space outdoors
    if place is not None:
        named = terrain & {"lighthouse", "tower"}   # seen from the water's edge, they stay
        layout, terrain = PLACES[place][0], set(PLACES[place][1])
        if "sea" in terrain and named:
            terrain |= named | {"cliffs"}   # on a headland
    time = _declared_time(own.get("time")) or (times[0][1] if times else _declared_time(where.get("time")))
    if own.get("weather") in WEATHER_WORDS:
        weather = frozenset((own["weather"],))
    elif not weather and where.get("weather") in WEATHER_WORDS:
        weather = frozenset((where["weather"],))
    # a location's lights are its outdoor ones (windows, a beam): a room's lamps are the scene's
    lights = {"lit": True, "unlit": False}.get(
        own.get("lights") or (where.get("lights", "") if layout == "landscape" else ""))
    if lights is None and _UNLIT.search(text):
        lights = False
    return SceneSpec(
        layout=layout,
        time=time,
        weather=weather,
        terrain=frozenset(terrain),
        moods=tuple(k for _, k in moods[:3]),
        colours=tuple(k for k, pat in _COLOUR.items() if pat.search(text)),
        words=text,
        monochrome=bool(_MONO.search(text)),
        pixel_art=bool(_PIXEL.search(text)),
        place=place,
        lights=lights,
    )
