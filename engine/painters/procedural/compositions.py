"""The procedural painter's indoor and space compositions (the larger outdoor one is in
`landscape.py`).

`compose_interior` picks the kind of room (corridor, hall, cabin or plain room) and its material
from the prompt's words, decides whether a window and lamps are lit, paints the room and adds a
throne or a table with a candle. `compose_space` paints deep space, a nebula and stars, then a
planet (a vast limb when in orbit, ringed when asked) and a station or starship when named.

This module composes only: shapes come from `rooms.py`, `space.py` and `sky.py`. It must not
grade or develop the picture (`procedural.py` does), or keep state between calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from engine.painters.procedural.canvas import mix, polygon_mask, rgb
from engine.painters.procedural.context import Context
from engine.painters.procedural.rooms import LAMP, ROOM_MATERIALS, ROOM_SHAPES, room
from engine.painters.procedural.sky import fog_band, stars
from engine.painters.procedural.space import hull, nebula, planet, starship_shapes, station_shapes

ROOM_KIND_WORDS = (("corridor", r"corridor|hallway|passage|tunnel"),
                   ("hall", r"hall|throne|cathedral|ballroom|temple|church"),
                   ("cabin", r"cabin|tavern|inn|hut|attic"))
ROOM_MATERIAL_WORDS = (("metal", r"station|starship|spaceship|spacecraft|space|lab|laboratory|bunker"),
                       ("stone", r"dungeon|cellar|crypt|castle|hall|throne|cathedral|temple|tunnel|church|cave"),
                       ("wood", r"cabin|tavern|inn|hut|attic|library|study|wooden"))


def _pick(words: str, table: tuple[tuple[str, str], ...], default: str) -> str:
    return next((name for name, pattern in table if re.search(rf"\b(?:{pattern})", words)), default)


def compose_interior(ctx: Context, report: Callable[[float], None]) -> None:
    """Inside: a one-point-perspective room lit by a window, lamps, torches or strip lights."""
    words, light, canvas = ctx.spec.words, ctx.light, ctx.canvas
    kind = _pick(words, ROOM_KIND_WORDS, "room")
    material = "stone" if ctx.spec.place == "caves" else _pick(words, ROOM_MATERIAL_WORDS, "plaster")
    window = (material == "metal" and kind != "corridor") or (kind not in ("corridor", "hall") and material != "stone")
    lamps_lit = (light.night or light.elevation < 0.1 or kind == "cabin"
                 or bool(set(ctx.spec.moods) & {"dark", "eerie", "tense"})
                 or re.search(r"\b(candle|lamp|lantern|fire)", words) is not None)
    lamps_lit = lamps_lit if ctx.spec.lights is None else ctx.spec.lights
    report(0.2)
    rng = ctx.seeds("room")
    vx, vy = room(canvas, rng, kind, material, light, window, lamps_lit,
                  carpet=kind == "hall", strip_lights=material == "metal")
    report(0.6)
    bw, bh = ROOM_SHAPES[kind]
    if kind == "hall" and re.search(r"\bthrone", words):
        _throne(ctx, vx, vy + bh, bh * 0.75)
    if kind in ("room", "cabin"):
        _table(ctx, ctx.seeds("table"), vx, bool(lamps_lit), material)
    if "fog" in ctx.spec.weather or "eerie" in ctx.spec.moods:
        fog_band(canvas, ctx.seeds("roomfog"), 0.8, 0.12, light.haze, 0.5)


def _throne(ctx: Context, x: float, floor_y: float, height: float) -> None:
    """A tall-backed throne against the back wall, with a warm glow behind it."""
    w = height * 0.35
    back = [(x - w * 0.5, floor_y), (x - w * 0.5, floor_y - height * 0.8), (x, floor_y - height),
            (x + w * 0.5, floor_y - height * 0.8), (x + w * 0.5, floor_y)]
    arms = [(x - w * 0.8, floor_y), (x - w * 0.8, floor_y - height * 0.35), (x + w * 0.8, floor_y - height * 0.35),
            (x + w * 0.8, floor_y)]
    ctx.canvas.glow(x, floor_y - height * 0.6, height * 0.8, LAMP, 0.35)
    found = polygon_mask(ctx.canvas, [back, arms])
    if found:
        top, left, mask = found
        ctx.canvas.blend(rgb("#3a2414") * (0.5 + ctx.light.ambient * 0.3), mask, top, left)


def _table(ctx: Context, rng: np.random.Generator, vx: float, lit: bool, material: str) -> None:
    """A table in the foreground, dark against the room, with a candle on it when lamps are lit."""
    x = vx + rng.uniform(-0.35, 0.35)
    top_y, w = 0.8, rng.uniform(0.22, 0.3)
    board = [(x - w, top_y + 0.04), (x - w * 0.85, top_y), (x + w * 0.85, top_y), (x + w, top_y + 0.04)]
    legs = [[(x + s * w * 0.85 - 0.012, top_y + 0.03), (x + s * w * 0.85 + 0.012, top_y + 0.03),
             (x + s * w * 0.85 + 0.012, 1.01), (x + s * w * 0.85 - 0.012, 1.01)] for s in (-1, 1)]
    found = polygon_mask(ctx.canvas, [board] + legs)
    if found:
        top, left, mask = found
        wood = rgb(ROOM_MATERIALS["wood" if material != "metal" else "metal"][1]) * 0.35
        ctx.canvas.blend(wood * (ctx.light.ambient * 0.5 + (0.6 if lit else 0.0)), mask, top, left)
    if lit:
        cx = x + rng.uniform(-0.5, 0.5) * w
        candle = [[(cx - 0.008, top_y + 0.005), (cx - 0.008, top_y - 0.045), (cx + 0.008, top_y - 0.045),
                   (cx + 0.008, top_y + 0.005)]]
        found = polygon_mask(ctx.canvas, candle)
        if found:
            top, left, mask = found
            ctx.canvas.blend(rgb("#efe2c4"), mask, top, left)
        ctx.canvas.glow(cx, top_y - 0.06, 0.015, rgb("#fff0b0"), 1.2)
        ctx.canvas.glow(cx, top_y - 0.06, 0.12, LAMP, 0.45)


def compose_space(ctx: Context, report: Callable[[float], None]) -> None:
    """Space: nebula, starfield, a planet (a vast limb in orbit), a station or starship when named."""
    canvas, words, rng = ctx.canvas, ctx.spec.words, ctx.seeds("space")
    deep = rgb(str(rng.choice(["#0b0920", "#061420", "#120a14"])))
    canvas.fill_rows(mix(rgb("#020309")[:, None], deep[:, None], canvas.ys[None, :]).astype(np.float32))
    nebula(canvas, ctx.seeds("nebula"), 0.55)
    stars(canvas, ctx.seeds("stars"), int(1500 * canvas.aspect), 1.0, 1.0)
    report(0.3)
    sun_dir = np.array([rng.uniform(-0.9, 0.9), rng.uniform(-0.7, 0.2), 0.5])
    sun_dir /= np.linalg.norm(sun_dir)
    if re.search(r"\borbit", words):
        planet(canvas, ctx.seeds("planet"), canvas.aspect * rng.uniform(0.3, 0.7), 2.25, 1.6, sun_dir)
    elif not re.search(r"\basteroid", words) or rng.random() < 0.5:
        ringed = bool(re.search(r"\b(ring|ringed|gas giant|saturn)", words)) or rng.random() < 0.25
        planet(canvas, ctx.seeds("planet"), canvas.aspect * rng.uniform(0.15, 0.85), rng.uniform(0.25, 0.7),
               rng.uniform(0.1, 0.2) if ringed else rng.uniform(0.12, 0.28), sun_dir, ringed)
    report(0.6)
    if re.search(r"\bstation", words):
        cx, cy = canvas.aspect * rng.uniform(0.35, 0.65), rng.uniform(0.3, 0.45)
        hull(canvas, ctx.seeds("hull"), station_shapes(cx, cy, 0.4), sun_dir, 40)
        canvas.glow(cx, cy, 0.07, rgb("#8fd0ff"), 0.25)
    elif re.search(r"\b(starship|spaceship|spacecraft|ship)", words):
        cx, cy, size = canvas.aspect * rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.6), 0.28
        shapes, tail = starship_shapes(cx, cy, size, -1.0 if rng.random() < 0.5 else 1.0)
        hull(canvas, ctx.seeds("hull"), shapes, sun_dir, 30)
        for k in (-0.12, 0.0, 0.1):
            canvas.glow(tail, cy + size * k, size * 0.1, rgb("#7fc8ff"), 0.9)
