"""The embedded default painter: turns an image prompt into a stylised, seeded scene.

The prompt is read with small keyword tables (time of day, weather, terrain, mood, style); the
picture is composed from `scenery.py`'s primitives: a sky lit for the hour, sun or moon and stars,
clouds, layered silhouettes that pale with distance, water that mirrors them, weather, then a
mood grade, vignette and grain. Pure CPU (numpy + PIL), well under 200 ms at 1280x720.

Same prompt + seed + size -> the same pixels. This module must not load models, touch the disk
or keep state between calls (one painter may serve several worker threads).
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from engine.errors import PainterError
from engine.painters import scenery as sc
from engine.painters.scenery import mix, rgb

MAX_PIXELS = 8192 * 8192  # beyond this one picture alone would need gigabytes of float buffers

# --------------------------------------------------------------------------- prompt words

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


def parse_prompt(prompt: str) -> SceneSpec:
    """Read an image prompt with the keyword tables (case-insensitive, plurals allowed)."""
    text = " ".join(re.findall(r"[a-z0-9'-]+", prompt.lower()))
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
    return SceneSpec(
        layout=layout,
        time=times[0][1] if times else None,
        weather=weather,
        terrain=frozenset(terrain),
        moods=tuple(k for _, k in moods[:3]),
        colours=tuple(k for k, pat in _COLOUR.items() if pat.search(text)),
        words=text,
        monochrome=bool(_MONO.search(text)),
        pixel_art=bool(_PIXEL.search(text)),
    )


# --------------------------------------------------------------------------- light and grade


@dataclass(frozen=True)
class Lighting:
    """Colours of one hour of the day (floats 0..1)."""

    zenith: np.ndarray  # sky colour overhead
    horizon: np.ndarray  # sky colour at the horizon
    glow: np.ndarray  # halo around the sun or moon
    disc: np.ndarray  # the sun or moon itself
    elevation: float  # 0 = on the horizon, 1 = overhead
    ambient: np.ndarray  # light falling on land, multiplies albedo
    haze: np.ndarray  # colour distant layers fade into
    stars: float  # star visibility 0..1
    night: bool  # a moon instead of a sun; windows lit


def _light(zenith, horizon, glow, disc, elevation, ambient, haze, stars=0.0, night=False) -> Lighting:
    return Lighting(rgb(zenith), rgb(horizon), rgb(glow), rgb(disc), elevation, rgb(ambient), rgb(haze), stars, night)


LIGHTS = {
    "dawn": _light("#2e3a78", "#f7b49a", "#ffbf94", "#fff1dc", 0.07, "#b49aae", "#e3a7a3", 0.2),
    "morning": _light("#4d8fd8", "#d4e6f2", "#fff3d8", "#fffcf2", 0.45, "#f0f2ee", "#b9d3e6"),
    "noon": _light("#2c6cc9", "#a9d0f0", "#ffffff", "#ffffff", 0.85, "#ffffff", "#b4cfe6"),
    "afternoon": _light("#3f76c0", "#efd9aa", "#ffd99a", "#fff3cf", 0.3, "#f4dfba", "#dcc8a4"),
    "dusk": _light("#23224f", "#f4874a", "#ff9450", "#ffd68f", 0.05, "#a26072", "#d2745f", 0.3),
    "night": _light("#060b1c", "#23375f", "#8fa6d8", "#eef2ff", 0.62, "#5a70a8", "#2e4470", 1.0, True),
}


@dataclass(frozen=True)
class Grade:
    """A mood's colour grade; moods found together are averaged."""

    tint: tuple[float, float, float]  # per-channel gain
    saturation: float
    contrast: float
    exposure: float
    mist: float  # extra atmospheric haze


MOODS = {
    "calm": Grade((1.0, 1.02, 1.04), 0.9, 0.92, 1.04, 0.05),
    "bright": Grade((1.04, 1.03, 0.98), 1.15, 1.0, 1.15, -0.05),
    "tense": Grade((1.12, 0.93, 0.84), 1.05, 1.2, 0.92, 0.0),
    "dark": Grade((0.92, 0.94, 1.02), 0.85, 1.12, 0.8, 0.05),
    "eerie": Grade((0.86, 1.06, 0.96), 0.7, 1.1, 0.85, 0.2),
    "melancholy": Grade((0.92, 0.96, 1.08), 0.65, 0.95, 0.92, 0.1),
    "triumphant": Grade((1.1, 1.02, 0.86), 1.2, 1.1, 1.08, -0.05),
    "mysterious": Grade((0.96, 0.88, 1.1), 0.9, 1.05, 0.88, 0.15),
}
NEUTRAL = Grade((1.0, 1.0, 1.0), 1.05, 1.05, 1.0, 0.0)
TIME_BY_MOOD = {"dark": "night", "eerie": "night", "mysterious": "dusk", "triumphant": "afternoon",
                "bright": "noon", "melancholy": "dusk", "tense": "dusk"}


def _grade_for(spec: SceneSpec) -> Grade:
    grades = [MOODS[m] for m in spec.moods] or [NEUTRAL]
    tint = np.mean([g.tint for g in grades], axis=0)
    for name in spec.colours:
        accent = rgb(COLOUR_WORDS[name])
        tint = tint * mix(1.0, accent / max(float(accent.mean()), 1e-3), 0.12)
    avg = lambda field: float(np.mean([getattr(g, field) for g in grades]))  # noqa: E731
    saturation = 0.0 if spec.monochrome else avg("saturation")
    return Grade(tuple(float(t) for t in tint), saturation, avg("contrast"), avg("exposure"), avg("mist"))


def _weathered(light: Lighting, weather: frozenset[str]) -> Lighting:
    """Dim and grey the hour's light for storms, rain, fog, snow and overcast skies."""
    grey = rgb("#59606b") if not light.night else rgb("#181c24")
    if "storm" in weather:
        light = replace(light, zenith=mix(light.zenith, grey * 0.45, 0.8), horizon=mix(light.horizon, grey, 0.6),
                        ambient=light.ambient * 0.55, haze=mix(light.haze, grey, 0.6), stars=0.0)
    elif "rain" in weather or "snow" in weather:
        veil = grey if "rain" in weather else rgb("#b9c2cc") * (0.3 if light.night else 1.0)
        light = replace(light, zenith=mix(light.zenith, veil * 0.8, 0.55), horizon=mix(light.horizon, veil, 0.5),
                        ambient=light.ambient * 0.8, haze=mix(light.haze, veil, 0.5), stars=light.stars * 0.2)
    if "fog" in weather:
        mist = rgb("#c9ced3") if not light.night else rgb("#3a4c6e")
        light = replace(light, horizon=mix(light.horizon, mist, 0.6), haze=mix(light.haze, mist, 0.7),
                        stars=light.stars * 0.4)
    return light


def _grade_matrix(grade: Grade) -> tuple[np.ndarray, float]:
    """The grade as one colour matrix (to 0..255 units) and offset: tint x saturation x contrast."""
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    saturate = np.eye(3, dtype=np.float32) * grade.saturation + (1.0 - grade.saturation) * luma[None, :]
    matrix = (np.diag(np.array(grade.tint, np.float32)) @ saturate) * (grade.exposure * grade.contrast * 255.0)
    return matrix, 0.5 * (1.0 - grade.contrast) * grade.exposure * 255.0 + 0.5


# --------------------------------------------------------------------------- the painter


class _Seeds:
    """Independent generators per drawing step, so adding a step never reshuffles the others."""

    def __init__(self, prompt: str, seed: int) -> None:
        digest = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).digest()
        self._base = [int(seed) % 2**64, int.from_bytes(digest[:8], "little")]

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng(self._base + [zlib.crc32(name.encode())])

    def of_prompt(self, name: str) -> np.random.Generator:
        """A generator fixed by the prompt alone: for choices every seed of a prompt should share."""
        return np.random.default_rng([self._base[1], zlib.crc32(name.encode())])


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError) as err:
        raise PainterError(f"Image size must be two whole numbers (width, height), got {size!r}.") from err
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise PainterError(f"Image size {width}x{height} is out of range: use 1x1 up to 8192x8192.")
    return width, height


class ProceduralPainter:
    """Draws stylised scenes from image prompts without any model: the offline default."""

    id = "procedural"
    model = "procedural-v1"
    steps = 1

    def paint(self, prompt: str, seed: int, size: tuple[int, int],
              on_progress: Callable[[float], None] | None = None) -> Image.Image:
        """Paint the prompt's scene, seeded, at size (width, height); returns an RGB image.

        on_progress(fraction) is called a few times with 0..1; an exception it raises (e.g.
        JobCancelled) propagates and stops the painting.
        """
        width, height = _check_size(size)
        report = on_progress or (lambda fraction: None)
        report(0.0)
        spec, seeds = parse_prompt(prompt), _Seeds(prompt, seed)
        if spec.pixel_art:
            width, height = max(1, round(width / 6)), max(1, round(height / 6))
        canvas = sc.Canvas(width, height)
        time = spec.time or _default_time(spec, seeds("time"))
        light = _weathered(LIGHTS[time], spec.weather)
        grade = _grade_for(spec)
        draw = {"interior": _interior, "space": _space}.get(spec.layout, _landscape)
        draw(_Context(canvas, spec, light, seeds, grade.mist), report)
        report(0.85)
        matrix, offset = _grade_matrix(grade)
        image = canvas.develop(matrix, offset, 0.0 if spec.pixel_art else 0.035, seeds("grain"),
                               0.45 if set(spec.moods) & {"dark", "eerie", "tense"} else 0.35)
        if spec.pixel_art:
            image = image.resize(tuple(int(v) for v in size), Image.Resampling.NEAREST)
        report(1.0)
        return image


def _default_time(spec: SceneSpec, rng: np.random.Generator) -> str:
    """An hour chosen by seed, leaning towards what the mood suggests."""
    options = list(LIGHTS)
    weights = np.array([1.0, 1.0, 1.2, 1.2, 1.4, 1.0])
    for mood in spec.moods:
        if mood in TIME_BY_MOOD:
            weights[options.index(TIME_BY_MOOD[mood])] += 3.0
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]


# --------------------------------------------------------------------------- composition

ALBEDO = {  # surface colours before light and haze
    "rock": rgb("#6f7789"), "snow": rgb("#f4f7fb"), "grass": rgb("#5f8447"), "meadow": rgb("#7d9a5c"),
    "forest": rgb("#2a4a33"), "sand": rgb("#dcab6c"), "cliff": rgb("#6c625c"), "town": rgb("#86705f"),
    "boat": rgb("#3a2f2a"), "tower": rgb("#e8e4dc"), "band": rgb("#b8423a"), "stone": rgb("#8a8478"),
}
WINDOW_LIGHT = rgb("#ffc56a")
CLOUD_COVER = {"clouds": 0.75, "storm": 1.0, "rain": 0.9, "snow": 0.85, "fog": 0.3}  # at least this much sky
LANDSCAPES = (("hills", "forest"), ("mountains", "hills"), ("mountains", "sea"), ("hills", "town"),
              ("mountains", "forest"), ("sea", "cliffs"))  # when the prompt names no terrain


@dataclass
class _Context:
    """What every drawing step needs: the canvas, the reading of the prompt and the light."""

    canvas: sc.Canvas
    spec: SceneSpec
    light: Lighting
    seeds: _Seeds
    mood_mist: float

    def haze(self, depth: float, mist: float) -> float:
        """How far a layer at depth (0 near .. 1 far) fades into the haze colour."""
        return float(min(0.94, 0.03 + (0.18 + mist) * depth**1.15))

    def layer(self, top: sc.TopFn, albedo: np.ndarray, depth: float, top_y: float, foot_y: float,
              mist: float, gain: np.ndarray | None = None, gain_depth: float = 0.15) -> None:
        """Paint one silhouette: albedo lit by the hour, hazed by depth, misty at its foot."""
        colours = sc.layer_colours(self.canvas, albedo * self.light.ambient, self.light.haze,
                                   self.haze(depth, mist), top_y, foot_y, min(0.9, mist * 0.9) * depth**0.5)
        self.canvas.paint_profile(top, colours, gain, gain_depth)


def _face_gain(canvas: sc.Canvas, smooth_top: sc.TopFn, sun_x: float, strength: float) -> np.ndarray:
    """Brighten slopes that face the sun and darken the others (the flat-shaded mountain look)."""
    step = 0.015  # a wide difference: faces change over a few columns, never in one
    slope = (smooth_top(canvas.xs + step) - smooth_top(canvas.xs - step)) / (2 * step)
    facing = np.where(canvas.xs > sun_x, -1.0, 1.0) * -np.tanh(slope * 2.0)
    return (1.0 + strength * facing).astype(np.float32)


def _sky(ctx: _Context, horizon: float) -> tuple[float, float]:
    """Sky gradient, stars, sun or moon, lightning and clouds; returns the light's (x, y)."""
    canvas, light, weather, rng = ctx.canvas, ctx.light, ctx.spec.weather, ctx.seeds("sky")
    canvas.fill_rows(sc.sky_rows(canvas, light.zenith, light.horizon, horizon))
    veiled = bool(weather & {"storm", "rain", "fog", "snow"})
    sc.stars(canvas, ctx.seeds("stars"), int(700 * canvas.aspect), horizon, light.stars)
    sun_x = rng.uniform(0.2, 0.8) * canvas.aspect
    sun_y = horizon - light.elevation * horizon * 0.85
    radius = 0.05 if light.elevation < 0.2 else 0.04
    hidden = veiled and not weather <= {"fog"}
    if light.night and not hidden:
        sc.moon(canvas, ctx.seeds("moon"), sun_x, max(0.12, sun_y), 0.045, light.disc, light.glow)
    elif not light.night and not veiled:
        sc.sun(canvas, sun_x, sun_y, radius, light.disc)
    if "storm" in weather and (re.search(r"lightning|thunder", ctx.spec.words) or rng.random() < 0.6):
        sc.lightning(canvas, ctx.seeds("bolt"), horizon, rgb("#e8eeff"))
    cover = 0.0 if "clear" in weather else rng.uniform(0.05, 0.45)
    cover = max([cover] + [CLOUD_COVER[w] for w in weather if w in CLOUD_COVER])
    if cover > 0.0:
        lit = mix(light.horizon, light.glow, 0.6) * (0.5 if light.night else 1.0)
        if not light.night and light.elevation > 0.2:
            lit = mix(lit, np.ones(3, np.float32), 0.6)
        shade = mix(light.zenith, light.horizon, 0.4) * (0.8 if not veiled else 0.6)
        sc.clouds(canvas, ctx.seeds("clouds"), horizon, cover, lit, shade, cover > 0.8)
    if not light.night:  # through storm clouds only a faint brightening is left of the sun
        veil = 0.15 if "storm" in weather else 0.35 if weather & {"rain", "snow"} else 0.6 if veiled else 1.0
        sc.sun_glow(canvas, sun_x, sun_y, radius, light.glow * veil, 1.0 - min(1.0, light.elevation * 2.0))
    return sun_x, sun_y


def _ground_albedo(spec: SceneSpec) -> np.ndarray:
    if "desert" in spec.terrain:
        return ALBEDO["sand"]
    if "snowfield" in spec.terrain or "snow" in spec.weather:
        return ALBEDO["snow"] * 0.92
    return ALBEDO["grass"]


def _landscape(ctx: _Context, report: Callable[[float], None]) -> None:
    """Outdoor scene: sky, far-to-near silhouettes, water that mirrors them, weather."""
    canvas, spec, light = ctx.canvas, ctx.spec, ctx.light
    rng, aspect = ctx.seeds("layout"), canvas.aspect
    fallback = ctx.seeds.of_prompt("landscape")
    terrain = set(spec.terrain) or set(LANDSCAPES[int(fallback.integers(len(LANDSCAPES)))])
    if "lighthouse" in terrain and not terrain & {"cliffs", "sea"}:
        terrain |= {"cliffs", "sea"}
    if "cliffs" in terrain and not terrain & {"sea", "hills", "desert", "snowfield"}:
        terrain.add("sea")
    if terrain <= {"tower", "town"}:
        terrain.add("hills")
    if re.search(r"\b(harbou?r|port|pier|dock|quay)", spec.words):
        terrain.add("town")
    sea = "sea" in terrain
    horizon = (0.6 if sea else 0.64) + rng.uniform(-0.03, 0.03) + (0.03 if "mountains" in terrain else 0.0)
    weather = spec.weather
    mist = min(0.9, 0.22 + ctx.mood_mist + (0.45 if "fog" in weather else 0.0)
               + (0.15 if weather & {"rain", "storm", "snow"} else 0.0))
    sun_x, sun_y = _sky(ctx, horizon)
    report(0.3)
    ground = _ground_albedo(spec)
    shading = 0.0 if light.night else 0.28 * (1.0 - mist)
    if "mountains" in terrain or "snowfield" in terrain:
        snowy = "snowfield" in terrain or "snow" in weather
        for i, (depth, height) in enumerate(((1.0, 0.3), (0.85, 0.22), (0.7, 0.13))):
            base = horizon + 0.01 + 0.025 * i
            top, smooth = sc.peaks(ctx.seeds(f"peaks{i}"), aspect, base, height, int((6 - i) * aspect) + 3,
                                   roughness=0.012 + 0.008 * i)
            gain = _face_gain(canvas, smooth, sun_x, shading * 0.4)
            snowline = base - height * (0.35 if snowy else 0.7)
            ctx.layer(top, ALBEDO["snow"], depth, base - height, base + 0.04, mist, gain, 0.1)
            jag = sc.fbm1d(ctx.seeds(f"snow{i}"), 18.0, 3)
            rock = mix(ALBEDO["rock"], ALBEDO["snow"], 0.3) if snowy else ALBEDO["rock"] * (1.0 - 0.12 * i)
            ctx.layer(lambda x, t=top, j=jag, s=snowline: np.maximum(t(x), s + 0.06 * (j(x) - 0.5)),
                      rock, depth, base - height, base + 0.04, mist, gain, 0.1)
        if "fog" in weather:
            sc.fog_band(canvas, ctx.seeds("fog1"), horizon, 0.04, light.haze, 0.8)
    shore = horizon + 0.004
    if sea:
        _far_shore(ctx, terrain, shore, mist, sun_x)
    else:
        _land_layers(ctx, terrain, horizon, mist, ground, sun_x)
    report(0.55)
    if sea:
        _cliffs_and_boats(ctx, terrain, shore, mist, sun_x)
        calm = 0.75 if re.search(r"\b(lake|pond|still)\b", spec.words) else (0.0 if "storm" in weather else 0.4)
        glitter = None if weather & {"storm", "rain", "fog"} else sun_x
        tint = mix(light.zenith, light.horizon, 0.5) * 0.55 + rgb("#0b2a36") * 0.3
        sc.water(canvas, ctx.seeds("water"), shore, tint.astype(np.float32), glitter, light.glow, calm)
        if "storm" in weather or rng.random() < 0.5:
            side = rng.uniform(0.0, 0.35) * aspect if rng.random() < 0.5 else rng.uniform(0.65, 1.0) * aspect
            rocks = sc.hills(ctx.seeds("rocks"), 1.02, 0.12, 7.0)
            ctx.layer(lambda x: np.where(np.abs(x - side) < 0.3, rocks(x) + 3.0 * np.abs(x - side) ** 2, sc.BELOW),
                      ALBEDO["cliff"] * 0.45, 0.0, 0.9, 1.0, 0.0)
    report(0.7)
    _weather(ctx, mist)


def _land_layers(ctx: _Context, terrain: set[str], horizon: float, mist: float, ground: np.ndarray,
                 sun_x: float) -> None:
    """Hills, forest, town and towers standing on land, far to near, then the near ground."""
    canvas, aspect, light = ctx.canvas, ctx.canvas.aspect, ctx.light
    far_ground = mix(ground, ALBEDO["meadow"], 0.4) if ground is ALBEDO["grass"] else ground
    far_hill = sc.hills(ctx.seeds("hills1"), horizon + 0.04, 0.07, 2.2)
    ctx.layer(far_hill, far_ground, 0.6, horizon - 0.03, horizon + 0.06, mist)
    if "fog" in ctx.spec.weather:
        sc.fog_band(canvas, ctx.seeds("fog2"), horizon + 0.05, 0.035, light.haze, 0.7)
    mid = sc.hills(ctx.seeds("hills2"), horizon + 0.1, 0.05, 3.0)
    if "town" in terrain:  # behind the hill it stands on
        _town(ctx, float(mid(np.array([canvas.aspect / 2]))[0]) + 0.02, 0.42, mist)
    if "desert" in terrain:  # dunes with a lit and a shaded flank
        for i, (depth, height) in enumerate(((0.55, 0.04), (0.4, 0.06), (0.25, 0.08))):
            base = horizon + 0.06 + 0.08 * i
            dune = sc.dunes(ctx.seeds(f"dune{i}"), aspect, base, height, int(4 * aspect) + 2)
            ctx.layer(dune, ground * (1.0 - 0.07 * i), depth, base - height, base + 0.06, mist * 0.5,
                      _face_gain(canvas, dune, sun_x, 0.0 if light.night else 0.3), 0.05)
    if "forest" in terrain:
        trees = sc.treeline(ctx.seeds("trees"), aspect, mid, 0.12, 70.0, conifer=0.75)
        ctx.layer(trees, ALBEDO["forest"], 0.4, horizon - 0.02, horizon + 0.14, mist)
    elif "desert" not in terrain:
        ctx.layer(mid, ground, 0.4, horizon + 0.05, horizon + 0.14, mist)
    if "tower" in terrain:
        x = ctx.seeds("tower").uniform(0.25, 0.75) * aspect
        _tower(ctx, x, float(mid(np.array([x]))[0]) + 0.03, 0.34, 0.075, False, mist)
    near = sc.hills(ctx.seeds("near"), 0.97, 0.13, 1.4)
    if "forest" in terrain:
        left = ctx.seeds("side").random() < 0.5
        corner = (-0.1, 0.25 * aspect) if left else (0.75 * aspect, aspect + 0.1)
        trees = sc.treeline(ctx.seeds("neartrees"), aspect, near, 0.5, 9.0, conifer=0.9, x_range=corner)
        ctx.layer(trees, ALBEDO["forest"] * 0.6, 0.0, 0.5, 1.0, 0.0)
    else:
        ctx.layer(near, ground * 0.7, 0.05, 0.84, 1.0, mist * 0.3)


def _far_shore(ctx: _Context, terrain: set[str], shore: float, mist: float, sun_x: float) -> None:
    """Low land, trees and buildings along the far side of the water, so the water mirrors them."""
    aspect = ctx.canvas.aspect
    rng = ctx.seeds("shore")
    if terrain & {"hills", "forest", "town"} or rng.random() < 0.6:
        lo = rng.uniform(-0.2, 0.4) * aspect
        span = rng.uniform(0.4, 0.9) * aspect
        land = sc.hills(ctx.seeds("shoreland"), shore, 0.025, 4.0)

        def bank(x: np.ndarray) -> np.ndarray:  # low land that slopes into the water at both ends
            taper = np.maximum(0.0, np.maximum(lo + 0.06 - x, x - lo - span + 0.06))
            return np.where((x > lo) & (x < lo + span), land(x) + 18.0 * taper**2, sc.BELOW)

        if "forest" in terrain:
            bank_trees = sc.treeline(ctx.seeds("shoretrees"), aspect, bank, 0.06, 90.0,
                                     x_range=(lo + 0.04, lo + span - 0.04))
            ctx.layer(bank_trees, ALBEDO["forest"], 0.75, shore - 0.06, shore, mist)
        ctx.layer(bank, ALBEDO["meadow"], 0.75, shore - 0.03, shore, mist)
        if "town" in terrain:
            _town(ctx, shore + 0.001, 0.6, mist, (lo + 0.05, lo + span - 0.05), height=0.05)


def _cliffs_and_boats(ctx: _Context, terrain: set[str], shore: float, mist: float, sun_x: float) -> None:
    """A headland with an optional lighthouse or tower, and a boat when the prompt names one."""
    canvas, aspect, rng = ctx.canvas, ctx.canvas.aspect, ctx.seeds("cliff")
    if "cliffs" in terrain:
        side = "left" if rng.random() < 0.5 else "right"
        height = rng.uniform(0.2, 0.28)
        top, smooth, plateau = sc.cliff(rng, aspect, side, shore + 0.002, height)
        if "lighthouse" in terrain or "tower" in terrain:
            base = float(top(np.array([plateau]))[0]) + 0.01
            _tower(ctx, plateau, base, 0.2, 0.05, "lighthouse" in terrain, mist * 0.6,
                   beam_dir=0.0 if side == "left" else math.pi)
        gain = _face_gain(canvas, smooth, sun_x, 0.0 if ctx.light.night else 0.25)
        ctx.layer(top, ALBEDO["cliff"], 0.3, shore - height, shore, mist * 0.5, gain, 0.3)
    if re.search(r"\b(ship|boat|sail)", ctx.spec.words):
        x, size = rng.uniform(0.25, 0.75) * aspect, rng.uniform(0.045, 0.07)
        y = shore + 0.02
        hull = [(x - size * 1.1, y - size * 0.3), (x + size * 1.2, y - size * 0.38), (x + size * 0.8, y),
                (x - size * 0.8, y)]
        mast = [(x - size * 0.03, y - size * 0.3), (x + size * 0.03, y - size * 0.3), (x + size * 0.03, y - size * 2.1),
                (x - size * 0.03, y - size * 2.1)]
        sail = [(x + size * 0.08, y - size * 0.45), (x + size * 0.08, y - size * 2.0), (x + size * 0.5, y - size * 1.2),
                (x + size * 0.95, y - size * 0.45)]
        jib = [(x - size * 0.1, y - size * 0.45), (x - size * 0.1, y - size * 1.8), (x - size * 0.95, y - size * 0.45)]
        found = sc.polygon_mask(canvas, [hull, mast, sail, jib])
        if found:
            top_row, left, mask = found
            colour = mix(ALBEDO["boat"] * ctx.light.ambient, ctx.light.haze, ctx.haze(0.3, mist))
            canvas.blend(colour, mask, top_row, left)
        if ctx.light.night or ctx.light.elevation < 0.1:
            canvas.glow(x + size * 0.6, y - size * 0.35, 0.02, WINDOW_LIGHT, 0.5)


def _town(ctx: _Context, base: float, depth: float, mist: float, x_range: tuple[float, float] | None = None,
          height: float = 0.07) -> None:
    """Roofs and walls along a ground line, each house its own shade; lit windows at dusk and night."""
    canvas, spec, light = ctx.canvas, ctx.spec, ctx.light
    rng = ctx.seeds("town")
    style = ("city" if re.search(r"\b(city|skyline|metropolis|skyscraper)", spec.words)
             else "castle" if re.search(r"\b(castle|fortress|citadel|keep)", spec.words) else "village")
    if x_range is None:
        lo = rng.uniform(0.05, 0.4) * canvas.aspect
        span = rng.uniform(0.3, 0.5) if style == "village" else rng.uniform(0.25, 0.35)
        x_range = (lo, lo + span * canvas.aspect) if style != "city" else (-0.05, canvas.aspect + 0.05)
    tall = height * (2.2 if style == "city" else 2.0 if style == "castle" else 1.0)
    top, walls, windows, boxes = sc.skyline(rng, x_range, base, tall, style)
    tone = np.ones(canvas.width, np.float32)
    for (x0, x1, _, _), shade in zip(boxes, rng.uniform(0.75, 1.15, len(boxes))):
        tone[canvas.col(x0): canvas.col(x1)] = shade
    wall = ALBEDO["stone"] if style != "village" else ALBEDO["town"]
    roof = rgb("#8a4a3a") if style == "village" else wall * 0.8
    ctx.layer(top, roof, depth, base - tall, base + 0.03, mist)
    ctx.layer(walls, wall, depth, base - tall, base + 0.03, mist, tone, 1.0)
    lit = light.night or light.elevation < 0.1 or "dark" in spec.moods
    glass = WINDOW_LIGHT * mix(1.0, 0.6, ctx.haze(depth, mist)) if lit else \
        mix(wall * light.ambient * 0.35, light.haze, ctx.haze(depth, mist))
    for (x0, y0, x1, y1), bright in zip(windows, rng.uniform(0.6, 1.1, len(windows))):
        if not lit and bright < 0.8:
            continue
        c0, r0 = canvas.col(x0), canvas.row(y0)
        c1, r1 = max(c0 + 1, canvas.col(x1)), max(r0 + 1, canvas.row(y1))
        canvas.px[:, r0:r1, c0:c1] = sc.c3(glass * (bright if lit else 1.0))
    if lit:
        mid = (x_range[0] + x_range[1]) / 2.0
        canvas.add_glow(mid, base - tall * 0.5, (x_range[1] - x_range[0]) * 0.5, tall * 1.2, WINDOW_LIGHT, 0.08)


def _tower(ctx: _Context, x: float, base: float, height: float, width: float, lighthouse: bool, mist: float,
           beam_dir: float = 0.0) -> None:
    """A lighthouse (white and red bands, lit lantern, beam at dusk/night) or a lone tower."""
    canvas, light = ctx.canvas, ctx.light
    body, lit, (lx, ly) = sc.tower_shapes(x, base, height, width, lighthouse)
    found = sc.polygon_mask(canvas, body)
    if found:
        top, left, mask = found
        rows = (canvas.ys[top: top + mask.shape[0]] - (base - height)) / (height / 4.5)
        banded = np.where((np.floor(rows) % 2 == 1)[None, :], ALBEDO["band"][:, None], ALBEDO["tower"][:, None]) \
            if lighthouse else np.repeat((ALBEDO["stone"] * 0.7)[:, None], mask.shape[0], 1)
        colour = mix(banded * light.ambient[:, None], light.haze[:, None], ctx.haze(0.35, mist))
        canvas.blend(colour[:, :, None].astype(np.float32), mask, top, left)
    dark = light.night or light.elevation < 0.1 or bool(ctx.spec.weather & {"storm", "fog", "rain"})
    found = sc.polygon_mask(canvas, lit)
    if found:
        top, left, mask = found
        canvas.blend(WINDOW_LIGHT if dark else rgb("#9fb3c0") * light.ambient, mask, top, left)
    if dark:
        canvas.glow(lx, ly, 0.03, WINDOW_LIGHT, 0.8)
        if lighthouse:
            canvas.beam(lx, ly, beam_dir + 0.04, 0.08, 0.8, rgb("#fff0c8"), 0.55)
            canvas.beam(lx, ly, beam_dir + math.pi - 0.3, 0.05, 0.25, rgb("#fff0c8"), 0.2)


def _weather(ctx: _Context, mist: float) -> None:
    """Rain, snow and a final veil of fog over the finished landscape."""
    canvas, weather, light = ctx.canvas, ctx.spec.weather, ctx.light
    if "fog" in weather:
        veil = sc.smoothstep(0.3, 1.0, canvas.ys)[:, None] * np.float32(0.25)
        canvas.px += (sc.c3(light.haze) - canvas.px) * veil
    if weather & {"rain", "storm"}:
        amount = 1.0 if "storm" in weather else 0.7
        sc.rain(canvas, ctx.seeds("rain"), amount, mix(light.horizon, np.ones(3, np.float32), 0.4), 0.25)
    if "snow" in weather:
        sc.snow(canvas, ctx.seeds("snowfall"), 1.0, mix(light.horizon, np.ones(3, np.float32), 0.8))


ROOM_KIND_WORDS = (("corridor", r"corridor|hallway|passage|tunnel"),
                   ("hall", r"hall|throne|cathedral|ballroom|temple|church"),
                   ("cabin", r"cabin|tavern|inn|hut|attic"))
ROOM_MATERIAL_WORDS = (("metal", r"station|starship|spaceship|spacecraft|space|lab|laboratory|bunker"),
                       ("stone", r"dungeon|cellar|crypt|castle|hall|throne|cathedral|temple|tunnel|church|cave"),
                       ("wood", r"cabin|tavern|inn|hut|attic|library|study|wooden"))


def _pick(words: str, table: tuple[tuple[str, str], ...], default: str) -> str:
    return next((name for name, pattern in table if re.search(rf"\b(?:{pattern})", words)), default)


def _interior(ctx: _Context, report: Callable[[float], None]) -> None:
    """Inside: a one-point-perspective room lit by a window, lamps, torches or strip lights."""
    words, light, canvas = ctx.spec.words, ctx.light, ctx.canvas
    kind = _pick(words, ROOM_KIND_WORDS, "room")
    material = _pick(words, ROOM_MATERIAL_WORDS, "plaster")
    window = (material == "metal" and kind != "corridor") or (kind not in ("corridor", "hall") and material != "stone")
    lamps_lit = (light.night or light.elevation < 0.1 or kind == "cabin"
                 or bool(set(ctx.spec.moods) & {"dark", "eerie", "tense"})
                 or re.search(r"\b(candle|lamp|lantern|fire)", words) is not None)
    report(0.2)
    rng = ctx.seeds("room")
    vx, vy = sc.room(canvas, rng, kind, material, light, window, lamps_lit,
                     carpet=kind == "hall", strip_lights=material == "metal")
    report(0.6)
    bw, bh = sc.ROOM_SHAPES[kind]
    if kind == "hall" and re.search(r"\bthrone", words):
        _throne(ctx, vx, vy + bh, bh * 0.75)
    if kind in ("room", "cabin"):
        _table(ctx, ctx.seeds("table"), vx, bool(lamps_lit), material)
    if "fog" in ctx.spec.weather or "eerie" in ctx.spec.moods:
        sc.fog_band(canvas, ctx.seeds("roomfog"), 0.8, 0.12, light.haze, 0.5)


def _throne(ctx: _Context, x: float, floor_y: float, height: float) -> None:
    """A tall-backed throne against the back wall, with a warm glow behind it."""
    w = height * 0.35
    back = [(x - w * 0.5, floor_y), (x - w * 0.5, floor_y - height * 0.8), (x, floor_y - height),
            (x + w * 0.5, floor_y - height * 0.8), (x + w * 0.5, floor_y)]
    arms = [(x - w * 0.8, floor_y), (x - w * 0.8, floor_y - height * 0.35), (x + w * 0.8, floor_y - height * 0.35),
            (x + w * 0.8, floor_y)]
    ctx.canvas.glow(x, floor_y - height * 0.6, height * 0.8, sc.LAMP, 0.35)
    found = sc.polygon_mask(ctx.canvas, [back, arms])
    if found:
        top, left, mask = found
        ctx.canvas.blend(rgb("#3a2414") * (0.5 + ctx.light.ambient * 0.3), mask, top, left)


def _table(ctx: _Context, rng: np.random.Generator, vx: float, lit: bool, material: str) -> None:
    """A table in the foreground, dark against the room, with a candle on it when lamps are lit."""
    x = vx + rng.uniform(-0.35, 0.35)
    top_y, w = 0.8, rng.uniform(0.22, 0.3)
    board = [(x - w, top_y + 0.04), (x - w * 0.85, top_y), (x + w * 0.85, top_y), (x + w, top_y + 0.04)]
    legs = [[(x + s * w * 0.85 - 0.012, top_y + 0.03), (x + s * w * 0.85 + 0.012, top_y + 0.03),
             (x + s * w * 0.85 + 0.012, 1.01), (x + s * w * 0.85 - 0.012, 1.01)] for s in (-1, 1)]
    found = sc.polygon_mask(ctx.canvas, [board] + legs)
    if found:
        top, left, mask = found
        wood = rgb(sc.ROOM_MATERIALS["wood" if material != "metal" else "metal"][1]) * 0.35
        ctx.canvas.blend(wood * (ctx.light.ambient * 0.5 + (0.6 if lit else 0.0)), mask, top, left)
    if lit:
        cx = x + rng.uniform(-0.5, 0.5) * w
        candle = [[(cx - 0.008, top_y + 0.005), (cx - 0.008, top_y - 0.045), (cx + 0.008, top_y - 0.045),
                   (cx + 0.008, top_y + 0.005)]]
        found = sc.polygon_mask(ctx.canvas, candle)
        if found:
            top, left, mask = found
            ctx.canvas.blend(rgb("#efe2c4"), mask, top, left)
        ctx.canvas.glow(cx, top_y - 0.06, 0.015, rgb("#fff0b0"), 1.2)
        ctx.canvas.glow(cx, top_y - 0.06, 0.12, sc.LAMP, 0.45)


def _space(ctx: _Context, report: Callable[[float], None]) -> None:
    """Space: nebula, starfield, a planet (a vast limb in orbit), a station or starship when named."""
    canvas, words, rng = ctx.canvas, ctx.spec.words, ctx.seeds("space")
    deep = rgb(str(rng.choice(["#0b0920", "#061420", "#120a14"])))
    canvas.fill_rows(mix(rgb("#020309")[:, None], deep[:, None], canvas.ys[None, :]).astype(np.float32))
    sc.nebula(canvas, ctx.seeds("nebula"), 0.55)
    sc.stars(canvas, ctx.seeds("stars"), int(1500 * canvas.aspect), 1.0, 1.0)
    report(0.3)
    sun_dir = np.array([rng.uniform(-0.9, 0.9), rng.uniform(-0.7, 0.2), 0.5])
    sun_dir /= np.linalg.norm(sun_dir)
    if re.search(r"\borbit", words):
        sc.planet(canvas, ctx.seeds("planet"), canvas.aspect * rng.uniform(0.3, 0.7), 2.25, 1.6, sun_dir)
    elif not re.search(r"\basteroid", words) or rng.random() < 0.5:
        ringed = bool(re.search(r"\b(ring|ringed|gas giant|saturn)", words)) or rng.random() < 0.25
        sc.planet(canvas, ctx.seeds("planet"), canvas.aspect * rng.uniform(0.15, 0.85), rng.uniform(0.25, 0.7),
                  rng.uniform(0.1, 0.2) if ringed else rng.uniform(0.12, 0.28), sun_dir, ringed)
    report(0.6)
    if re.search(r"\bstation", words):
        cx, cy = canvas.aspect * rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.45)
        sc.hull(canvas, ctx.seeds("hull"), sc.station_shapes(cx, cy, 0.4), sun_dir, 40)
        canvas.glow(cx, cy, 0.07, rgb("#8fd0ff"), 0.25)
    elif re.search(r"\b(starship|spaceship|spacecraft|ship)", words):
        cx, cy, size = canvas.aspect * rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.6), 0.28
        shapes, tail = sc.starship_shapes(cx, cy, size, -1.0 if rng.random() < 0.5 else 1.0)
        sc.hull(canvas, ctx.seeds("hull"), shapes, sun_dir, 30)
        for k in (-0.12, 0.0, 0.1):
            canvas.glow(tail, cy + size * k, size * 0.1, rgb("#7fc8ff"), 0.9)
