"""Rooms for the procedural painter: a one-point-perspective interior, textured and lit.

`room` shades back wall, side walls, floor and ceiling with the joints of their material (planks,
masonry, metal panels or plaster), lamp light, a window onto the hour's sky, pillars in halls and
a lit doorway at the end of corridors; it returns the vanishing point where props can stand.

This module must not read prompts or decide which room to draw (`compositions.py` does), import
anything beyond numpy and the canvas helpers, or keep state between calls.
"""

from __future__ import annotations

import math

import numpy as np

from engine.painters.procedural.canvas import Canvas, c3, mix, rgb, smoothstep, upsample

ROOM_SHAPES = {  # back wall half-width, half-height (image heights): smaller = deeper
    "corridor": (0.1, 0.13), "hall": (0.52, 0.3), "cabin": (0.36, 0.22), "room": (0.4, 0.25)}
ROOM_MATERIALS = {  # wall, floor, ceiling albedo
    "wood": ("#9a6a45", "#6e4a2e", "#5e3f27"), "stone": ("#8a8376", "#645d54", "#4d4842"),
    "metal": ("#8e9aa6", "#4f5863", "#6f7984"), "plaster": ("#cdbb9e", "#7c5838", "#ddd3c3")}
LAMP = rgb("#ffb866")


def _seam(coord: np.ndarray, count: float, width: float = 0.06) -> np.ndarray:
    """1 between planks, bricks or panels; dips towards 0 on the joints."""
    f = coord * np.float32(count)
    return smoothstep(0.0, width, np.abs(f - np.round(f)))


def room(canvas: Canvas, rng: np.random.Generator, kind: str, material: str, light, window: bool,
         lamps_lit: bool, carpet: bool = False, strip_lights: bool = False) -> tuple[float, float]:
    """A one-point-perspective room: back wall, side walls, floor and ceiling, textured and lit.

    kind (ROOM_SHAPES) sets the depth, material (ROOM_MATERIALS) colours and joint patterns;
    a window shows the hour's sky (stars, for metal rooms); lamps, torches or strip lights glow.
    light: the hour's lighting (zenith, horizon, glow, ambient, night). carpet lays a red runner
    down the middle of the floor; strip_lights puts glowing panels along the ceiling.
    Returns the vanishing point (x, y), where props can be placed.
    """
    bw, bh = ROOM_SHAPES[kind]
    vx, vy = canvas.aspect * (0.5 + rng.uniform(-0.07, 0.07)), 0.46 + rng.uniform(-0.03, 0.03)
    lamps = _room_lamps(rng, kind, material, vx, vy, bw, bh, lamps_lit)
    lamp_field = np.zeros((canvas.light_h, canvas.light_w), np.float32)
    for lx, ly, radius, strength in lamps:
        d2 = (canvas.lxs[None, :] - lx) ** 2 + (canvas.lys[:, None] - ly) ** 2
        lamp_field += strength / (1.0 + d2 / (radius * radius))
    lamp_light = upsample(lamp_field, canvas.width, canvas.height)
    pane = _window_pane(rng, material) if window else None
    sill = np.zeros(3, np.float32)
    if pane:
        daylight = light.horizon if not light.night else light.glow * 0.15  # moonlight is faint
        sill = rgb("#6f8fb8") * 0.4 if material == "metal" else daylight
    ambient = light.ambient * (0.45 if not window else 0.8) if lamps_lit else light.ambient
    surfaces = [rgb(c) for c in ROOM_MATERIALS[material]]
    u = (canvas.xs - vx) / np.float32(bw)  # back-wall units
    step = max(1, 65536 // canvas.width)
    for r0 in range(0, canvas.height, step):  # row strips keep every temporary small
        r1 = min(canvas.height, r0 + step)
        v = (canvas.ys[r0:r1] - vy) / np.float32(bh)
        _room_strip(canvas.px[:, r0:r1], u, v, material, window, surfaces, ambient, lamp_light[r0:r1], pane, sill,
                    carpet, strip_lights)
    if pane:
        _window_view(canvas, rng, light, vx, vy, bw, bh, material, pane)
    if kind == "hall":
        _pillars(canvas, vx, vy, bw, bh, surfaces[0] * ambient * (0.8 if lamps_lit else 1.0))
    if kind == "corridor":  # a lit doorway at the far end
        c0, c1 = canvas.col(vx - bw * 0.35), canvas.col(vx + bw * 0.35)
        r0, r1 = canvas.row(vy - bh * 0.5), canvas.row(vy + bh)
        door = LAMP * 0.9 if material != "metal" else rgb("#bfe6ff")
        canvas.px[:, r0:r1, c0:c1] = c3(door)
        canvas.glow(vx, vy + bh * 0.3, bw * 1.5, door, 0.35)
    for lx, ly, radius, strength in lamps:  # the flames and bulbs themselves
        canvas.glow(lx, ly, radius * 0.3, LAMP if material != "metal" else rgb("#cfe8ff"), strength * 0.5)
    return vx, vy


CARPET = rgb("#7a1f22")
STRIP_LIGHT = rgb("#d8ecff")


def _room_strip(px: np.ndarray, u: np.ndarray, v: np.ndarray, material: str, window: bool,
                surfaces: list[np.ndarray], ambient: np.ndarray, lamp_light: np.ndarray,
                pane: tuple[float, float, float, float] | None, sill: np.ndarray,
                carpet: bool, strip_lights: bool) -> None:
    """Shade one strip of rows of the room (u: columns, v: rows, in back-wall units)."""
    au, av = np.abs(u)[None, :], np.abs(v)[:, None]
    scale = np.maximum(np.maximum(au, av), np.float32(1.0))
    depth = 1.0 / scale  # 1 on the back wall, smaller towards the viewer
    side = au >= av
    back = depth >= 1.0
    floor = ~side & ~back & (v[:, None] > 0)
    across = np.where(back | side, v[:, None], u[None, :]) * depth  # height on walls, width on floor
    along = np.where(back, u[None, :], scale)  # runs into the distance on walls and floor
    if material == "wood":
        pattern = np.where(floor, _seam(across, 3.5), _seam(across, 4.5, 0.08))
    elif material == "stone":
        pattern = _seam(across, 3.5, 0.08) * _seam(along + 0.15 * (np.floor(across * 3.5) % 2), 1.25, 0.05)
    elif material == "metal":
        pattern = _seam(across, 1.5, 0.04) * _seam(along, 1.0, 0.03)
    else:
        pattern = np.where(floor, _seam(across, 4.0), np.where(side & (across > 0.3), 0.8, 1.0))
    fade = np.where(back, 1.0, smoothstep(0.97, 0.6, depth)).astype(np.float32)  # joints blur far away
    pattern = 1.0 + (pattern * np.float32(0.3) - np.float32(0.3)) * fade
    shade = np.where(back, 1.0, np.where(side, 0.78, np.where(floor, 0.9, 0.62))).astype(np.float32)
    fall = np.sqrt(depth if window else 1.0 - depth * 0.8)
    brightness = shade * (0.35 + 0.65 * fall) * pattern
    lamp = lamp_light * pattern * shade
    is_wall, is_floor = side | back, floor.astype(np.float32)
    wall, floor_c, ceiling = surfaces
    patch = None
    if pane:  # daylight or moonlight through the window, falling on the floor in front of it
        centre, half = pane[0], pane[1]
        patch = (floor & (np.abs(u[None, :] * depth - centre) < half * 1.1)) * smoothstep(0.55, 0.8, depth)
    runner = floor & (np.abs(across) < 0.2) if carpet else None
    panel = (~side & ~back & ~floor & (np.abs(across) < 0.12)) * fade if strip_lights else None
    for k in range(3):  # per channel: albedo of each surface x (ambient + lamp light)
        albedo = np.where(is_wall, wall[k], ceiling[k] + (floor_c[k] - ceiling[k]) * is_floor)
        if runner is not None:
            albedo = np.where(runner, CARPET[k], albedo)
        px[k] = albedo * (brightness * ambient[k] + lamp * LAMP[k])
        if patch is not None:
            px[k] += patch * np.float32(0.35 * sill[k])
        if panel is not None:
            px[k] += panel * np.float32(STRIP_LIGHT[k])


def _window_pane(rng: np.random.Generator, material: str) -> tuple[float, float, float, float]:
    """Where the window sits on the back wall: (centre, half-width, top, bottom) in wall units."""
    if material == "metal":
        return 0.0, 0.7, -0.55, 0.35
    return rng.uniform(-0.4, 0.4), rng.uniform(0.22, 0.32), -0.6, 0.2


def _room_lamps(rng: np.random.Generator, kind: str, material: str, vx: float, vy: float,
                bw: float, bh: float, lit: bool) -> list[tuple[float, float, float, float]]:
    """Light sources as (x, y, radius, strength): torches, ceiling lights, a lantern or a hearth."""
    if material == "metal":
        return [(vx, vy - bh / d * 0.97, 0.1 / math.sqrt(d), 0.45) for d in (0.95, 0.7, 0.5)]
    if material == "stone":
        reach = 0.12 if kind == "corridor" else 0.22
        return [(vx + s * bw / d * (0.62 if kind == "hall" else 1.0), vy - 0.1 * bh / d, reach / math.sqrt(d), 0.8)
                for d in (0.9, 0.6) for s in (-1, 1)]
    if not lit:
        return []
    s = -1.0 if rng.random() < 0.5 else 1.0
    if kind == "cabin":  # a hearth low on a side wall
        return [(vx + s * bw / 0.7, vy + 0.5 * bh / 0.7, 0.3, 1.0)]
    return [(vx + s * 0.6 * bw / 0.75, vy + 0.1 * bh / 0.75, 0.25, 0.9)]


def _window_view(canvas: Canvas, rng: np.random.Generator, light, vx: float, vy: float, bw: float, bh: float,
                 material: str, pane: tuple[float, float, float, float]) -> None:
    """The window itself: the hour's sky (stars from a station), glazing bars, a glow around it."""
    centre, half, top_v, bottom_v = pane
    space = material == "metal"
    c0, c1 = canvas.col(vx + (centre - half) * bw), canvas.col(vx + (centre + half) * bw)
    r0, r1 = canvas.row(vy + top_v * bh), canvas.row(vy + bottom_v * bh)
    if c1 <= c0 or r1 <= r0:
        return
    zenith = rgb("#02030a") if space else light.zenith
    horizon = rgb("#0a0c1c") if space else light.horizon
    t = np.linspace(0.0, 1.0, r1 - r0, dtype=np.float32)[None, :, None]
    canvas.px[:, r0:r1, c0:c1] = mix(c3(zenith), c3(horizon), t)
    if space or light.night:
        n = int((c1 - c0) * (r1 - r0) / 180) + 3
        ys, xs = rng.integers(r0, r1, n), rng.integers(c0, c1, n)
        canvas.px[:, ys, xs] = rng.uniform(0.4, 1.0, n).astype(np.float32)
    frame = max(1, round(canvas.height / 200))
    colour = c3(rgb(ROOM_MATERIALS[material][0]) * 0.3)
    for c in np.linspace(c0, c1 - frame, 4 if space else 3).astype(int):
        canvas.px[:, r0:r1, c:c + frame] = colour
    for r in sorted({r0, r1 - frame, (r0 + r1) // 2 if not space else r0}):
        canvas.px[:, r:r + frame, c0:c1] = colour
    glow = rgb("#6f8fb8") * 0.4 if space else (light.horizon if not light.night else light.glow * 0.35)
    canvas.glow(vx + centre * bw, vy + (top_v + bottom_v) / 2 * bh, half * bw * 1.2, glow, 0.25)


def _pillars(canvas: Canvas, vx: float, vy: float, bw: float, bh: float, colour: np.ndarray) -> None:
    """Rows of square pillars down both sides of a hall, far to near, lit on their inner face."""
    for d in (0.93, 0.78, 0.64, 0.53):
        for sign in (-1.0, 1.0):
            cx, half = vx + sign * 0.78 * bw / d, 0.07 * bw / d
            c0, c1 = canvas.col(cx - half), canvas.col(cx + half)
            r0, r1 = canvas.row(vy - bh / d), canvas.row(vy + bh / d)
            if c1 <= c0 or r1 <= r0:
                continue
            tone = np.linspace(0.55, 1.0, c1 - c0, dtype=np.float32)
            tone = tone if sign > 0 else tone[::-1]
            canvas.px[:, r0:r1, c0:c1] = c3(colour * (0.35 + 0.5 * d) + canvas.light_at(cx, vy) * 0.3) * tone[None, None, :]
