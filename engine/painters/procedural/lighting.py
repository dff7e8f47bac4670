"""Light and colour grade for the procedural painter: the hour, the weather's dimming, the mood.

`LIGHTS` holds the colours of six hours of the day; `weathered` greys and dims them for storms,
rain, snow and fog; `default_time` picks an hour by seed when the prompt names none, leaning
towards the mood's. `MOODS` holds each mood's grade; `grade_for` averages the prompt's moods and
accent colours into one `Grade`, and `grade_matrix` turns it into the colour matrix
`Canvas.develop` applies.

This module decides colours only: it must not draw, read raw prompt text (it takes a `SceneSpec`),
or keep state between calls.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.painters.procedural.canvas import mix, rgb
from engine.painters.procedural.prompt_words import COLOUR_WORDS, SceneSpec


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


def grade_for(spec: SceneSpec) -> Grade:
    """The prompt's moods averaged into one grade (neutral without any), its accent colours
    tinting it a little; no saturation at all when the prompt asks for monochrome."""
    grades = [MOODS[m] for m in spec.moods] or [NEUTRAL]
    tint = np.mean([g.tint for g in grades], axis=0)
    for name in spec.colours:
        accent = rgb(COLOUR_WORDS[name])
        tint = tint * mix(1.0, accent / max(float(accent.mean()), 1e-3), 0.12)
    avg = lambda field: float(np.mean([getattr(g, field) for g in grades]))  # noqa: E731
    saturation = 0.0 if spec.monochrome else avg("saturation")
    return Grade(tuple(float(t) for t in tint), saturation, avg("contrast"), avg("exposure"), avg("mist"))


def weathered(light: Lighting, weather: frozenset[str]) -> Lighting:
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


def grade_matrix(grade: Grade) -> tuple[np.ndarray, float]:
    """The grade as one colour matrix (to 0..255 units) and offset: tint x saturation x contrast."""
    luma = np.array([0.299, 0.587, 0.114], np.float32)
    saturate = np.eye(3, dtype=np.float32) * grade.saturation + (1.0 - grade.saturation) * luma[None, :]
    matrix = (np.diag(np.array(grade.tint, np.float32)) @ saturate) * (grade.exposure * grade.contrast * 255.0)
    return matrix, 0.5 * (1.0 - grade.contrast) * grade.exposure * 255.0 + 0.5


def default_time(spec: SceneSpec, rng: np.random.Generator) -> str:
    """An hour chosen by seed, leaning towards what the mood suggests."""
    options = list(LIGHTS)
    weights = np.array([1.0, 1.0, 1.2, 1.2, 1.4, 1.0])
    for mood in spec.moods:
        if mood in TIME_BY_MOOD:
            weights[options.index(TIME_BY_MOOD[mood])] += 3.0
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]
