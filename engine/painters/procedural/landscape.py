"""The procedural painter's outdoor composition: what a landscape prompt gets, where and in which
colours.

`compose_landscape` fills in a terrain when the prompt names none, then paints far to near: a sky
lit for the hour (sun or moon, stars, lightning, clouds), mountains with sunlit and shaded faces,
hills, dunes, forest, a town or a tower on land, or a far shore, cliffs, a lighthouse and boats by
water that mirrors them, and finally rain, snow or fog.

This module composes only: shapes come from `terrain.py` and `sky.py`, light from `lighting.py`.
It must not parse prompts beyond the `SceneSpec` and its words, grade or develop the picture
(`procedural.py` does), or keep state between calls.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

from engine.painters.procedural.canvas import BELOW, Canvas, TopFn, c3, fbm1d, mix, polygon_mask, rgb, smoothstep
from engine.painters.procedural.context import Context
from engine.painters.procedural.prompt_words import SceneSpec
from engine.painters.procedural.sky import clouds, fog_band, lightning, moon, rain, sky_rows, snow, stars, sun, sun_glow, water
from engine.painters.procedural.terrain import cliff, dunes, hills, peaks, skyline, tower_shapes, treeline

ALBEDO = {  # surface colours before light and haze
    "rock": rgb("#6f7789"), "snow": rgb("#f4f7fb"), "grass": rgb("#5f8447"), "meadow": rgb("#7d9a5c"),
    "forest": rgb("#2a4a33"), "sand": rgb("#dcab6c"), "cliff": rgb("#6c625c"), "town": rgb("#86705f"),
    "boat": rgb("#3a2f2a"), "tower": rgb("#e8e4dc"), "band": rgb("#b8423a"), "stone": rgb("#8a8478"),
    "heather": rgb("#6e4a5e"),
}
WINDOW_LIGHT = rgb("#ffc56a")
CLOUD_COVER = {"clouds": 0.75, "storm": 1.0, "rain": 0.9, "snow": 0.85, "fog": 0.3}  # at least this much sky
LANDSCAPES = (("hills", "forest"), ("mountains", "hills"), ("mountains", "sea"), ("hills", "town"),
              ("mountains", "forest"), ("sea", "cliffs"))  # when the prompt names no terrain


def _face_gain(canvas: Canvas, smooth_top: TopFn, sun_x: float, strength: float) -> np.ndarray:
    """Brighten slopes that face the sun and darken the others (the flat-shaded mountain look)."""
    step = 0.015  # a wide difference: faces change over a few columns, never in one
    slope = (smooth_top(canvas.xs + step) - smooth_top(canvas.xs - step)) / (2 * step)
    facing = np.where(canvas.xs > sun_x, -1.0, 1.0) * -np.tanh(slope * 2.0)
    return (1.0 + strength * facing).astype(np.float32)


def _sky(ctx: Context, horizon: float) -> tuple[float, float]:
    """Sky gradient, stars, sun or moon, lightning and clouds; returns the light's (x, y)."""
    canvas, light, weather, rng = ctx.canvas, ctx.light, ctx.spec.weather, ctx.seeds("sky")
    canvas.fill_rows(sky_rows(canvas, light.zenith, light.horizon, horizon))
    veiled = bool(weather & {"storm", "rain", "fog", "snow"})
    stars(canvas, ctx.seeds("stars"), int(700 * canvas.aspect), horizon, light.stars)
    sun_x = rng.uniform(0.2, 0.8) * canvas.aspect
    sun_y = horizon - light.elevation * horizon * 0.85
    radius = 0.05 if light.elevation < 0.2 else 0.04
    hidden = veiled and not weather <= {"fog"}
    if light.night and not hidden:
        moon(canvas, ctx.seeds("moon"), sun_x, max(0.12, sun_y), 0.045, light.disc, light.glow)
    elif not light.night and not veiled:
        sun(canvas, sun_x, sun_y, radius, light.disc)
    if "storm" in weather and (re.search(r"lightning|thunder", ctx.spec.words) or rng.random() < 0.6):
        lightning(canvas, ctx.seeds("bolt"), horizon, rgb("#e8eeff"))
    cover = 0.0 if "clear" in weather else rng.uniform(0.05, 0.45)
    cover = max([cover] + [CLOUD_COVER[w] for w in weather if w in CLOUD_COVER])
    if cover > 0.0:
        lit = mix(light.horizon, light.glow, 0.6) * (0.5 if light.night else 1.0)
        if not light.night and light.elevation > 0.2:
            lit = mix(lit, np.ones(3, np.float32), 0.6)
        shade = mix(light.zenith, light.horizon, 0.4) * (0.8 if not veiled else 0.6)
        clouds(canvas, ctx.seeds("clouds"), horizon, cover, lit, shade, cover > 0.8)
    if not light.night:  # through storm clouds only a faint brightening is left of the sun
        veil = 0.15 if "storm" in weather else 0.35 if weather & {"rain", "snow"} else 0.6 if veiled else 1.0
        sun_glow(canvas, sun_x, sun_y, radius, light.glow * veil, 1.0 - min(1.0, light.elevation * 2.0))
    return sun_x, sun_y


def _ground_albedo(spec: SceneSpec) -> np.ndarray:
    if "desert" in spec.terrain:
        return ALBEDO["sand"]
    if "snowfield" in spec.terrain or "snow" in spec.weather:
        return ALBEDO["snow"] * 0.92
    if spec.place == "moor" or re.search(r"\b(moor|heather|heath)", spec.words):
        return mix(ALBEDO["grass"], ALBEDO["heather"], 0.35)
    return ALBEDO["grass"]


def compose_landscape(ctx: Context, report: Callable[[float], None]) -> None:
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
    if spec.place is None and re.search(r"\b(harbou?r|port|pier|dock|quay)", spec.words):
        terrain.add("town")
    sea = "sea" in terrain
    horizon = (0.6 if sea else 0.64) + rng.uniform(-0.03, 0.03) + (0.03 if "mountains" in terrain else 0.0)
    weather = spec.weather
    mist = min(0.9, 0.22 + ctx.mood_mist + (0.45 if "fog" in weather else 0.0)
               + (0.15 if weather & {"rain", "storm", "snow"} else 0.0))
    sun_x, sun_y = _sky(ctx, horizon)
    ctx.light_x = sun_x
    ctx.focus.append(sun_x)
    report(0.3)
    ground = _ground_albedo(spec)
    shading = 0.0 if light.night else 0.28 * (1.0 - mist)
    if "mountains" in terrain or "snowfield" in terrain:
        snowy = "snowfield" in terrain or "snow" in weather
        for i, (depth, height) in enumerate(((1.0, 0.3), (0.85, 0.22), (0.7, 0.13))):
            base = horizon + 0.01 + 0.025 * i
            top, smooth = peaks(ctx.seeds(f"peaks{i}"), aspect, base, height, int((6 - i) * aspect) + 3,
                                roughness=0.012 + 0.008 * i)
            gain = _face_gain(canvas, smooth, sun_x, shading * 0.4)
            snowline = base - height * (0.35 if snowy else 0.7)
            ctx.layer(top, ALBEDO["snow"], depth, base - height, base + 0.04, mist, gain, 0.1)
            jag = fbm1d(ctx.seeds(f"snow{i}"), 18.0, 3)
            rock = mix(ALBEDO["rock"], ALBEDO["snow"], 0.3) if snowy else ALBEDO["rock"] * (1.0 - 0.12 * i)
            ctx.layer(lambda x, t=top, j=jag, s=snowline: np.maximum(t(x), s + 0.06 * (j(x) - 0.5)),
                      rock, depth, base - height, base + 0.04, mist, gain, 0.1)
        if "fog" in weather:
            fog_band(canvas, ctx.seeds("fog1"), horizon, 0.04, light.haze, 0.8)
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
        water(canvas, ctx.seeds("water"), shore, tint.astype(np.float32), glitter, light.glow, calm)
        if "storm" in weather or rng.random() < 0.5:
            side = rng.uniform(0.0, 0.35) * aspect if rng.random() < 0.5 else rng.uniform(0.65, 1.0) * aspect
            rocks = hills(ctx.seeds("rocks"), 1.02, 0.12, 7.0)
            ctx.layer(lambda x: np.where(np.abs(x - side) < 0.3, rocks(x) + 3.0 * np.abs(x - side) ** 2, BELOW),
                      ALBEDO["cliff"] * 0.45, 0.0, 0.9, 1.0, 0.0)
    report(0.7)
    _weather(ctx, mist)


def _land_layers(ctx: Context, terrain: set[str], horizon: float, mist: float, ground: np.ndarray,
                 sun_x: float) -> None:
    """Hills, forest, town and towers standing on land, far to near, then the near ground."""
    canvas, aspect, light = ctx.canvas, ctx.canvas.aspect, ctx.light
    far_ground = mix(ground, ALBEDO["meadow"], 0.4) if ground is ALBEDO["grass"] else ground
    words = ctx.spec.words
    far_hill = hills(ctx.seeds("hills1"), horizon + 0.04, 0.07, 2.2)
    ctx.layer(far_hill, far_ground, 0.6, horizon - 0.03, horizon + 0.06, mist)
    if "fog" in ctx.spec.weather:
        fog_band(canvas, ctx.seeds("fog2"), horizon + 0.05, 0.035, light.haze, 0.7)
    mid = hills(ctx.seeds("hills2"), horizon + 0.1, 0.05, 3.0)
    if "town" in terrain:  # behind the hill it stands on
        _town(ctx, float(mid(np.array([canvas.aspect / 2]))[0]) + 0.02, 0.42, mist)
    elif re.search(r"\b(cottage|croft|farmhouse|house)", words):   # a lone house on the hillside
        x = ctx.seeds("cottage").uniform(0.15, 0.45) * aspect
        _town(ctx, float(np.max(mid(np.linspace(x, x + 0.07, 8)))) + 0.015, 0.3, mist, (x, x + 0.05),
              height=0.065, lone=True)
    if "desert" in terrain:  # dunes with a lit and a shaded flank
        for i, (depth, height) in enumerate(((0.55, 0.04), (0.4, 0.06), (0.25, 0.08))):
            base = horizon + 0.06 + 0.08 * i
            dune = dunes(ctx.seeds(f"dune{i}"), aspect, base, height, int(4 * aspect) + 2)
            ctx.layer(dune, ground * (1.0 - 0.07 * i), depth, base - height, base + 0.06, mist * 0.5,
                      _face_gain(canvas, dune, sun_x, 0.0 if light.night else 0.3), 0.05)
    if "forest" in terrain:
        trees = treeline(ctx.seeds("trees"), aspect, mid, 0.12, 70.0, conifer=0.75)
        ctx.layer(trees, ALBEDO["forest"], 0.4, horizon - 0.02, horizon + 0.14, mist)
    elif "desert" not in terrain:
        ctx.layer(mid, ground, 0.4, horizon + 0.05, horizon + 0.14, mist)
    if "tower" in terrain:
        x = ctx.seeds("tower").uniform(0.25, 0.75) * aspect
        _tower(ctx, x, float(mid(np.array([x]))[0]) + 0.03, 0.34, 0.075, False, mist)
    if re.search(r"\b(standing stone|menhir|monolith|standing-stone)", words):
        x = ctx.seeds("menhir").uniform(0.6, 0.85) * aspect
        _standing_stone(ctx, x, float(mid(np.array([x]))[0]) + 0.03, mist)
    near = hills(ctx.seeds("near"), 0.97, 0.13, 1.4)
    if "forest" in terrain:
        left = ctx.seeds("side").random() < 0.5
        corner = (-0.1, 0.25 * aspect) if left else (0.75 * aspect, aspect + 0.1)
        trees = treeline(ctx.seeds("neartrees"), aspect, near, 0.5, 9.0, conifer=0.9, x_range=corner)
        ctx.layer(trees, ALBEDO["forest"] * 0.6, 0.0, 0.5, 1.0, 0.0)
    else:
        ctx.layer(near, ground * 0.7, 0.05, 0.84, 1.0, mist * 0.3)


def _standing_stone(ctx: Context, x: float, base: float, mist: float) -> None:
    """A tall rough slab, leaning a little, dark against the sky."""
    rng, height, width = ctx.seeds("menhir_shape"), 0.17, 0.03
    ctx.focus.append(x)
    lean = rng.uniform(-0.012, 0.012)
    slab = [(x - width * 0.6, base), (x - width * 0.5 + lean, base - height * 0.9),
            (x + lean, base - height), (x + width * 0.5 + lean, base - height * 0.85), (x + width * 0.6, base)]
    found = polygon_mask(ctx.canvas, [slab])
    if found:
        top, left, mask = found
        colour = mix(ALBEDO["stone"] * 0.6 * ctx.light.ambient, ctx.light.haze, ctx.haze(0.35, mist))
        ctx.canvas.blend(colour, mask, top, left)


def _far_shore(ctx: Context, terrain: set[str], shore: float, mist: float, sun_x: float) -> None:
    """Low land, trees and buildings along the far side of the water, so the water mirrors them."""
    aspect = ctx.canvas.aspect
    rng = ctx.seeds("shore")
    if terrain & {"hills", "forest", "town"} or rng.random() < 0.6:
        lo = rng.uniform(-0.2, 0.4) * aspect
        span = rng.uniform(0.4, 0.9) * aspect
        land = hills(ctx.seeds("shoreland"), shore, 0.025, 4.0)

        def bank(x: np.ndarray) -> np.ndarray:  # low land that slopes into the water at both ends
            taper = np.maximum(0.0, np.maximum(lo + 0.06 - x, x - lo - span + 0.06))
            return np.where((x > lo) & (x < lo + span), land(x) + 18.0 * taper**2, BELOW)

        if "forest" in terrain:
            bank_trees = treeline(ctx.seeds("shoretrees"), aspect, bank, 0.06, 90.0,
                                  x_range=(lo + 0.04, lo + span - 0.04))
            ctx.layer(bank_trees, ALBEDO["forest"], 0.75, shore - 0.06, shore, mist)
        ctx.layer(bank, ALBEDO["meadow"], 0.75, shore - 0.03, shore, mist)
        if "town" in terrain:
            _town(ctx, shore + 0.001, 0.6, mist, (lo + 0.05, lo + span - 0.05), height=0.05)


def _cliffs_and_boats(ctx: Context, terrain: set[str], shore: float, mist: float, sun_x: float) -> None:
    """A headland with an optional lighthouse or tower, and a boat when the prompt names one."""
    canvas, aspect, rng = ctx.canvas, ctx.canvas.aspect, ctx.seeds("cliff")
    if "cliffs" in terrain:
        side = "left" if rng.random() < 0.5 else "right"
        height = rng.uniform(0.2, 0.28)
        top, smooth, plateau = cliff(rng, aspect, side, shore + 0.002, height)
        if "lighthouse" in terrain or "tower" in terrain:
            base = float(top(np.array([plateau]))[0]) + 0.01
            _tower(ctx, plateau, base, 0.2, 0.05, "lighthouse" in terrain, mist * 0.6,
                   beam_dir=0.0 if side == "left" else math.pi)
        gain = _face_gain(canvas, smooth, sun_x, 0.0 if ctx.light.night else 0.25)
        ctx.layer(top, ALBEDO["cliff"], 0.3, shore - height, shore, mist * 0.5, gain, 0.3)
    if re.search(r"\b(ship|boat|sail)", ctx.spec.words):
        x, size = rng.uniform(0.25, 0.75) * aspect, rng.uniform(0.045, 0.07)
        y = shore + 0.02
        ctx.focus.append(x)
        hull = [(x - size * 1.1, y - size * 0.3), (x + size * 1.2, y - size * 0.38), (x + size * 0.8, y),
                (x - size * 0.8, y)]
        mast = [(x - size * 0.03, y - size * 0.3), (x + size * 0.03, y - size * 0.3), (x + size * 0.03, y - size * 2.1),
                (x - size * 0.03, y - size * 2.1)]
        sail = [(x + size * 0.08, y - size * 0.45), (x + size * 0.08, y - size * 2.0), (x + size * 0.5, y - size * 1.2),
                (x + size * 0.95, y - size * 0.45)]
        jib = [(x - size * 0.1, y - size * 0.45), (x - size * 0.1, y - size * 1.8), (x - size * 0.95, y - size * 0.45)]
        found = polygon_mask(canvas, [hull, mast, sail, jib])
        if found:
            top_row, left, mask = found
            colour = mix(ALBEDO["boat"] * ctx.light.ambient, ctx.light.haze, ctx.haze(0.3, mist))
            canvas.blend(colour, mask, top_row, left)
        if _lit(ctx, ctx.light.night or ctx.light.elevation < 0.1):
            canvas.glow(x + size * 0.6, y - size * 0.35, 0.02, WINDOW_LIGHT, 0.5)


def _lit(ctx: Context, by_the_hour: bool) -> bool:
    """Whether lamps, windows and beams shine: as declared (lit / unlit), else by the hour."""
    return by_the_hour if ctx.spec.lights is None else ctx.spec.lights


def _town(ctx: Context, base: float, depth: float, mist: float, x_range: tuple[float, float] | None = None,
          height: float = 0.07, lone: bool = False) -> None:
    """Roofs and walls along a ground line, each house its own shade; lit windows at dusk and night."""
    canvas, spec, light = ctx.canvas, ctx.spec, ctx.light
    rng = ctx.seeds("town")
    style = ("village" if lone else "city" if re.search(r"\b(city|skyline|metropolis|skyscraper)", spec.words)
             else "castle" if re.search(r"\b(castle|fortress|citadel|keep)", spec.words) else "village")
    if x_range is None:
        lo = rng.uniform(0.05, 0.4) * canvas.aspect
        span = rng.uniform(0.3, 0.5) if style == "village" else rng.uniform(0.25, 0.35)
        x_range = (lo, lo + span * canvas.aspect) if style != "city" else (-0.05, canvas.aspect + 0.05)
    tall = height * (2.2 if style == "city" else 2.0 if style == "castle" else 1.0)
    top, walls, windows, boxes = skyline(rng, x_range, base, tall, style, spires=not lone)
    tone = np.ones(canvas.width, np.float32)
    for (x0, x1, _, _), shade in zip(boxes, rng.uniform(0.75, 1.15, len(boxes))):
        tone[canvas.col(x0): canvas.col(x1)] = shade
    wall = ALBEDO["stone"] if style != "village" else ALBEDO["town"]
    roof = rgb("#8a4a3a") if style == "village" else wall * 0.8
    ctx.layer(top, roof, depth, base - tall, base + 0.03, mist)
    ctx.layer(walls, wall, depth, base - tall, base + 0.03, mist, tone, 1.0)
    lit = _lit(ctx, light.night or light.elevation < 0.1 or "dark" in spec.moods)
    glass = WINDOW_LIGHT * mix(1.0, 0.6, ctx.haze(depth, mist)) if lit else \
        mix(wall * light.ambient * 0.35, light.haze, ctx.haze(depth, mist))
    for (x0, y0, x1, y1), bright in zip(windows, rng.uniform(0.6, 1.1, len(windows))):
        if not lit and bright < 0.8:
            continue
        c0, r0 = canvas.col(x0), canvas.row(y0)
        c1, r1 = max(c0 + 1, canvas.col(x1)), max(r0 + 1, canvas.row(y1))
        canvas.px[:, r0:r1, c0:c1] = c3(glass * (bright if lit else 1.0))
    if lit:
        mid = (x_range[0] + x_range[1]) / 2.0
        canvas.add_glow(mid, base - tall * 0.5, (x_range[1] - x_range[0]) * 0.5, tall * 1.2, WINDOW_LIGHT, 0.08)


def _tower(ctx: Context, x: float, base: float, height: float, width: float, lighthouse: bool, mist: float,
           beam_dir: float = 0.0) -> None:
    """A lighthouse (white and red bands, lit lantern, beam at dusk/night) or a lone tower."""
    canvas, light = ctx.canvas, ctx.light
    ctx.focus.append(x)
    body, lit, (lx, ly) = tower_shapes(x, base, height, width, lighthouse)
    found = polygon_mask(canvas, body)
    if found:
        top, left, mask = found
        rows = (canvas.ys[top: top + mask.shape[0]] - (base - height)) / (height / 4.5)
        banded = np.where((np.floor(rows) % 2 == 1)[None, :], ALBEDO["band"][:, None], ALBEDO["tower"][:, None]) \
            if lighthouse else np.repeat((ALBEDO["stone"] * 0.7)[:, None], mask.shape[0], 1)
        colour = mix(banded * light.ambient[:, None], light.haze[:, None], ctx.haze(0.35, mist))
        canvas.blend(colour[:, :, None].astype(np.float32), mask, top, left)
    dark = _lit(ctx, light.night or light.elevation < 0.1 or bool(ctx.spec.weather & {"storm", "fog", "rain"}))
    found = polygon_mask(canvas, lit)
    if found:
        top, left, mask = found
        canvas.blend(WINDOW_LIGHT if dark else rgb("#9fb3c0") * light.ambient, mask, top, left)
    if dark:
        canvas.glow(lx, ly, 0.03, WINDOW_LIGHT, 0.8)
        if lighthouse:
            canvas.beam(lx, ly, beam_dir + 0.04, 0.08, 0.8, rgb("#fff0c8"), 0.55)
            canvas.beam(lx, ly, beam_dir + math.pi - 0.3, 0.05, 0.25, rgb("#fff0c8"), 0.2)


def _weather(ctx: Context, mist: float) -> None:
    """Rain, snow and a final veil of fog over the finished landscape."""
    canvas, weather, light = ctx.canvas, ctx.spec.weather, ctx.light
    if "fog" in weather:
        veil = smoothstep(0.3, 1.0, canvas.ys)[:, None] * np.float32(0.25)
        canvas.px += (c3(light.haze) - canvas.px) * veil
    if weather & {"rain", "storm"}:
        amount = 1.0 if "storm" in weather else 0.7
        rain(canvas, ctx.seeds("rain"), amount, mix(light.horizon, np.ones(3, np.float32), 0.4), 0.25)
    if "snow" in weather:
        snow(canvas, ctx.seeds("snowfall"), 1.0, mix(light.horizon, np.ones(3, np.float32), 0.8))
