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

# The player's part of a prompt: "featuring NAME, LOOK" (assets/prompts/image.j2 and the default
# prompt of engine.session.pictures). Its look words describe the player's figure, never the scene.
LOOK_COLOURS = (  # colour words of a look; figure.py holds their paint
    "red", "crimson", "scarlet", "maroon", "burgundy", "rust", "russet", "orange", "amber", "ochre",
    "yellow", "mustard", "gold", "golden", "green", "olive", "emerald", "teal", "blue", "navy",
    "indigo", "purple", "violet", "pink", "brown", "chestnut", "tan", "beige", "cream", "white",
    "grey", "gray", "slate", "silver", "black", "charcoal", "blonde", "blond", "auburn", "ginger",
    "copper", "sandy", "dark", "pale", "fair", "tanned")
LOOK_PARTS = {  # a noun of a look -> the part of the figure it colours or shapes
    "cloak": ("cloak", "cape", "mantle", "poncho", "shawl"),
    "coat": ("coat", "greatcoat", "overcoat", "oilskin", "parka", "duster", "frock coat", "raincoat"),
    "jacket": ("jacket", "gansey", "jumper", "sweater", "jersey", "tunic", "shirt", "blouse", "vest",
               "waistcoat", "doublet", "jerkin", "hoodie", "top"),
    "dress": ("dress", "gown", "robe", "habit", "skirt", "kilt", "frock", "cassock", "kimono"),
    "armour": ("armour", "armor", "mail", "chainmail", "breastplate", "cuirass", "plate"),
    "suit": ("jumpsuit", "coverall", "coveralls", "overalls", "uniform", "suit", "spacesuit", "flightsuit"),
    "hood": ("hood", "hooded", "cowl"),
    "hat": ("hat", "tricorn", "tricorne", "bowler", "stetson", "sombrero", "sou'wester", "wide-brimmed"),
    "cap": ("cap", "beanie", "beret", "toque", "bonnet", "headscarf", "turban", "bandana"),
    "helmet": ("helmet", "helm"),
    "hair": ("hair", "haired", "braid", "braids", "plait", "plaits", "ponytail", "curls", "locks", "bun",
             "mane", "beard", "bearded", "dreadlocks", "fringe"),
    "bald": ("bald", "shaved head", "shaven head"),
    "legs": ("trousers", "breeches", "boots", "leggings", "pants", "trews", "jeans", "slacks"),
    "accent": ("scarf", "collar", "sash", "belt", "gloves", "ribbon", "neckerchief", "cravat", "tie",
               "apron", "trim", "buttons", "badge"),
    "skin": ("skin", "skinned", "complexion"),
    "staff": ("staff", "stick", "cane", "crook", "spear", "walking stick", "pole", "rod"),
    "lantern": ("lantern", "lamp", "torch"),
    "sword": ("sword", "blade", "sabre", "saber", "cutlass", "rapier"),
    "pack": ("backpack", "pack", "satchel", "rucksack", "knapsack"),
}
LOOK_BUILDS = {
    "tall": ("tall", "towering", "lanky", "long-legged", "rangy"),
    "short": ("short", "small", "little", "petite", "tiny", "diminutive", "child"),
    "slight": ("slight", "slim", "thin", "lean", "wiry", "slender", "skinny", "gaunt", "willowy", "bony"),
    "broad": ("broad", "stocky", "sturdy", "burly", "heavy", "heavyset", "stout", "muscular", "big",
              "brawny", "large", "thickset", "broad-shouldered", "hulking", "portly"),
}


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
    player: PlayerLook | None = None  # the player's figure, when the prompt features them


@dataclass(frozen=True)
class PlayerLook:
    """The player's figure as a prompt's "featuring NAME, LOOK" describes it.

    Attributes:
        name: the player's name as the prompt gives it.
        colours: LOOK_PARTS key -> a LOOK_COLOURS word, for the parts the look gives a colour
            ("red coat" -> {"coat": "red"}; "dark skin" -> {"skin": "dark"}); parts the look
            does not colour are left out (figure.py paints them in neutral tones).
        parts: the LOOK_PARTS keys named, in the look's order (garments, headwear, things held).
        builds: the LOOK_BUILDS keys named ("tall", "short", "slight", "broad").
        text: the look's own text (its segments after the name, joined).
    """

    name: str
    colours: dict[str, str]
    parts: tuple[str, ...]
    builds: tuple[str, ...]
    text: str


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


_FEATURING = re.compile(r"\bfeaturing\s+", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.;:\[\]\n]")
_NOT_LOOK = re.compile(r"\b(atmosphere|mood|style|painting|illustration|render|art)\b", re.IGNORECASE)
_LOOK_WORD = re.compile(r"[a-z0-9']+(?:-[a-z0-9']+)*")
_PART_OF = {word: part for part, words in LOOK_PARTS.items() for word in words}
_BUILD_OF = {word: build for build, words in LOOK_BUILDS.items() for word in words}
_LOOK_COLOUR_SET = frozenset(LOOK_COLOURS)
MAX_NAME_WORDS = 5  # a "featuring" clause whose first segment is longer names no player


def _look_terms(segment: str) -> list[str]:
    """A segment's words, whole and hyphen-split ("green-stained" -> green-stained, green, stained),
    with two-word phrases ("shaved head", "walking stick") and plurals folded to their table word."""
    terms: list[str] = []
    words = _LOOK_WORD.findall(segment.lower())
    for i, word in enumerate(words):
        pieces = [word] + (word.split("-") if "-" in word else [])
        if i + 1 < len(words):
            pieces.append(f"{word} {words[i + 1]}")
        for piece in pieces:
            singular = piece[:-1] if piece.endswith("s") and piece[:-1] in _PART_OF else piece
            terms.append(singular)
    return terms


def _is_look(segment: str) -> bool:
    terms = _look_terms(segment)
    return any(t in _PART_OF or t in _BUILD_OF or t in _LOOK_COLOUR_SET for t in terms)


def _read_look(name: str, segments: list[str]) -> PlayerLook:
    colours: dict[str, str] = {}
    parts: list[str] = []
    builds: list[str] = []
    for segment in segments:
        terms = _look_terms(segment)
        words = _LOOK_WORD.findall(segment.lower())
        named = [_PART_OF[t] for t in terms if t in _PART_OF]
        if "hood" in named and "cloak" not in named and not set(named) & {"coat", "jacket", "dress"}:
            named.append("cloak")   # "hooded" alone: a hooded cloak
        colour = next((t for t in terms if t in _LOOK_COLOUR_SET), None)
        for part in named:
            if part not in parts:
                parts.append(part)
            if colour is not None:
                colours.setdefault(part, colour)
        for i, word in enumerate(words):   # "short hair" is the hair's length, not the build
            build = _BUILD_OF.get(word)
            if build and not any(_PART_OF.get(w) in ("hair", "legs", "cloak", "coat", "jacket", "dress")
                                 for w in words[i + 1:i + 3]) and build not in builds:
                builds.append(build)
    if "hood" in parts and "hood" not in colours:   # a hood is the garment's own cloth
        garment = next((p for p in ("cloak", "coat", "jacket", "dress") if p in colours), None)
        if garment:
            colours["hood"] = colours[garment]
    return PlayerLook(name=name, colours=colours, parts=tuple(parts), builds=tuple(builds),
                      text=", ".join(s.strip() for s in segments))


def player_clause(prompt: str) -> tuple[tuple[int, int], PlayerLook] | None:
    """The player's part of a prompt: its span in the prompt and the look it describes; None
    when the prompt features no player.

    The part starts at the word "featuring" (as assets/prompts/image.j2 renders it: "featuring
    NAME, LOOK"); a world's own image.j2 keeps a figure by keeping that phrase. The first comma
    segment is the name (at most MAX_NAME_WORDS words); the look is the segments after it, up to
    a ".", ";", ":" or "[", a segment that names a mood, atmosphere or style, or one that begins
    with a capital word that is no look word (a character present: "Maren Holt, ..."). Segments
    without any look word (the location, "moor") are skipped. Without a look word at all, no
    player is featured.
    """
    found = _FEATURING.search(prompt)
    if found is None:
        return None
    start = found.end()
    stop = _CLAUSE_END.search(prompt, start)
    clause = prompt[start: stop.start() if stop else len(prompt)]
    pieces = clause.split(",")
    name = pieces[0].strip()
    if not name or len(name.split()) > MAX_NAME_WORDS:
        return None
    look: list[str] = []
    offset, end = start + len(pieces[0]), start + len(pieces[0])
    for piece in pieces[1:]:
        offset += 1 + len(piece)
        text = piece.strip()
        if not text:
            continue
        if _NOT_LOOK.search(text):
            break
        first = _LOOK_WORD.findall(text.lower())
        if text[0].isupper() and not (first and _is_look(first[0])):
            break
        if _is_look(text):
            look.append(text)
            end = offset
    if not look:
        return None
    return (found.start(), end), _read_look(name, look)


def parse_prompt(prompt: str) -> SceneSpec:
    """Read an image prompt with the keyword tables (case-insensitive, plurals allowed); what
    the prompt declares in `[picture ...]` markers overrides what its words suggest.

    The player's part ("featuring NAME, LOOK", see `player_clause`) becomes `SceneSpec.player`
    and is left out of the scene's words: a "dark cloak" darkens the figure, not the mood.
    """
    featured = player_clause(prompt)
    player = None
    if featured is not None:
        (first, last), player = featured
        prompt = prompt[:first] + prompt[last:]
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
        player=player,
    )
