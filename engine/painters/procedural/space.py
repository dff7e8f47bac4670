"""Space for the procedural painter: nebulae, planets with bands and rings, and the hulls of space
stations and starships.

Bodies are lit from a sun direction (a unit 3-vector, y down, z towards the viewer); hulls are
polygons filled with sunlit metal and sprinkled with lit windows.

This module must not read prompts or decide what a view of space contains (`compositions.py`
does), import anything beyond numpy and the canvas helpers, or keep state between calls.
"""

from __future__ import annotations

import math

import numpy as np

from engine.painters.procedural.canvas import Canvas, Noise1D, c3, fbm2d, mix, polygon_mask, rgb, smoothstep, upsample

NEBULAE = ("#3b7dd8", "#c0389a", "#e0783a", "#2fb0a0", "#7a4fd0", "#d84060")
PLANETS = (("#d9b48a", "#8a5a3a"), ("#4a88c8", "#2f7f5a"), ("#c8603a", "#6a2a22"), ("#dde8f0", "#8aa8c8"),
           ("#9a8ae0", "#3a2f6a"))


def nebula(canvas: Canvas, rng: np.random.Generator, strength: float) -> None:
    """Two-coloured glowing gas clouds, added to the light buffer."""
    field = fbm2d(rng, canvas.light_w, canvas.light_h, canvas.aspect, cells=2, octaves=5)
    hue = fbm2d(rng, canvas.light_w, canvas.light_h, canvas.aspect, cells=1, octaves=3)
    first, second = (rgb(c) for c in rng.choice(NEBULAE, 2, replace=False))
    amount = upsample(smoothstep(0.42, 0.85, field) * np.float32(strength), canvas.width, canvas.height)
    hue = upsample(smoothstep(0.35, 0.65, hue), canvas.width, canvas.height)
    canvas.px += amount * (c3(first) + c3(second - first) * hue)


def rings(canvas: Canvas, cx: float, cy: float, r: float, tilt: float, colour: np.ndarray, front: bool) -> None:
    """A planet's ring system seen at an angle: the half behind the planet, or the half before it."""
    found = canvas.disc(cx, cy, r * 2.3)
    if not found:
        return
    top, left, _, u, v = found
    u, v = u * np.float32(2.3), v * np.float32(2.3)  # planet radii
    along = u * math.cos(tilt) + v * math.sin(tilt)
    across = (v * math.cos(tilt) - u * math.sin(tilt)) / 0.22
    radius = np.sqrt(along * along + across * across)
    band = smoothstep(1.35, 1.45, radius) * smoothstep(2.2, 2.05, radius)
    band = band * (0.55 + 0.45 * np.sin(radius * 23.0) ** 2) * ((across > 0) == front)
    canvas.blend(colour, band.astype(np.float32) * np.float32(0.85), top, left)


def planet(canvas: Canvas, rng: np.random.Generator, cx: float, cy: float, r: float, sun_dir: np.ndarray,
           ringed: bool = False) -> None:
    """A lit sphere with swirling bands, a thin bright atmosphere and a halo on its day side."""
    tilt = rng.uniform(-0.35, 0.35)
    ring_colour = rgb("#cdbb9a") * (0.4 + 0.6 * max(0.0, float(sun_dir[2])))
    if ringed:
        rings(canvas, cx, cy, r, tilt, ring_colour, front=False)
    found = canvas.disc(cx, cy, r * 1.3)
    if not found:
        return
    top, left, _, u, v = found
    u, v = u * np.float32(1.3), v * np.float32(1.3)
    dist = np.sqrt(u * u + v * v)
    cover = np.clip((1.0 - dist) * np.float32(r * canvas.height) + 0.5, 0.0, 1.0)
    nz = np.sqrt(np.clip(1.0 - dist * dist, 0.0, 1.0))
    lit = np.clip(u * sun_dir[0] + v * sun_dir[1] + nz * sun_dir[2], 0.0, 1.0).astype(np.float32)
    bright, dark = (rgb(c) for c in PLANETS[int(rng.integers(len(PLANETS)))])
    phase, freq = rng.uniform(0, 6.28), rng.uniform(9.0, 18.0)
    swirl = Noise1D(rng)
    lat = v + 0.08 * np.sin(u * 5.0 + phase) * (swirl(v * 0.5 + 0.5, 9.0) - 0.3)
    bands = 0.5 + 0.5 * np.sin(lat * freq + 2.5 * swirl(lat * 0.5 + 0.5, 23.0))
    bands = smoothstep(0.15, 0.85, bands)
    surface = mix(c3(dark), c3(bright), bands[None]) * (0.015 + 0.985 * np.sqrt(lit))[None]
    facing = np.clip((u * sun_dir[0] + v * sun_dir[1]) / np.maximum(dist, 1e-6) + 0.3, 0.0, 1.0)
    rim = np.exp(-np.abs(1.0 - dist) * np.float32(18.0)) * facing * np.float32(0.9)
    rim *= smoothstep(1.25, 1.0, dist)  # nothing left at the edge of the box
    halo = np.exp(-np.maximum(dist - 1.0, 0.0) * np.float32(25.0)) * (dist > 1.0) * facing * np.float32(0.5)
    region = canvas.px[:, top: top + cover.shape[0], left: left + cover.shape[1]]
    region += (surface - region) * cover
    region += (rim + halo) * c3(mix(bright, rgb("#9fd0ff"), 0.6))
    if ringed:
        rings(canvas, cx, cy, r, tilt, ring_colour, front=True)


def hull(canvas: Canvas, rng: np.random.Generator, polygons, sun_dir: np.ndarray, windows: int) -> None:
    """Fill hull polygons with metal lit from the sun's side and sprinkle lit windows."""
    found = polygon_mask(canvas, polygons)
    if not found:
        return
    top, left, mask = found
    h, w = mask.shape
    ramp = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None] * np.float32(0.5 - 0.5 * sun_dir[1])
    across = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :] * np.float32(sun_dir[0])
    tone = np.clip(0.12 + 0.3 * ramp + 0.2 * across, 0.03, 0.6)
    canvas.blend(c3(rgb("#aab4c2")) * tone[None], mask, top, left)
    windows = min(windows, h * w // 300)
    ys, xs = rng.integers(0, h, windows * 4), rng.integers(0, w, windows * 4)
    keep = mask[ys, xs] > 0.99
    canvas.px[:, top + ys[keep][:windows], left + xs[keep][:windows]] = rgb("#ffd890")[:, None]


def station_shapes(cx: float, cy: float, size: float) -> list[list[tuple[float, float]]]:
    """Polygons of a space station: a spoked ring seen at an angle, a hub, a truss, solar wings."""
    polys, ring_r, thick = [], size * 0.45, size * 0.045
    for i in range(48):
        a0, a1 = i / 48 * 2 * math.pi, (i + 1.05) / 48 * 2 * math.pi
        polys.append([(cx + math.cos(a) * (ring_r + s), cy + math.sin(a) * (ring_r + s) * 0.38)
                      for a, s in ((a0, thick), (a1, thick), (a1, -thick), (a0, -thick))])
    for a in (0.6, 2.2, 3.8, 5.4):
        x, y = cx + math.cos(a) * ring_r, cy + math.sin(a) * ring_r * 0.38
        polys.append([(cx - 0.006, cy), (cx + 0.006, cy), (x + 0.006, y), (x - 0.006, y)])
    hub = size * 0.09
    polys.append([(cx - hub, cy - hub * 1.6), (cx + hub, cy - hub * 1.6), (cx + hub, cy + hub * 1.6), (cx - hub, cy + hub * 1.6)])
    polys.append([(cx - size, cy - 0.005), (cx + size, cy - 0.005), (cx + size, cy + 0.005), (cx - size, cy + 0.005)])
    for end in (-1, 1):
        for k in range(2):
            x0 = cx + end * size * (0.65 + k * 0.17)
            polys.append([(x0 - 0.07 * size, cy - size * 0.3), (x0 + 0.07 * size, cy - size * 0.3),
                          (x0 + 0.07 * size, cy + size * 0.3), (x0 - 0.07 * size, cy + size * 0.3)])
    return polys


def starship_shapes(cx: float, cy: float, size: float, facing: float) -> tuple[list, float]:
    """Polygons of a wedge-hulled starship (nose towards facing = +1 right or -1 left); and its tail x."""
    d, nose, tail = facing, cx + facing * size, cx - facing * size
    body = [(nose, cy), (tail, cy - size * 0.22), (tail - d * size * 0.05, cy + size * 0.05), (tail, cy + size * 0.16)]
    bridge = [(cx - d * size * 0.3, cy - size * 0.08), (cx - d * size * 0.55, cy - size * 0.28),
              (cx - d * size * 0.8, cy - size * 0.28), (cx - d * size * 0.85, cy - size * 0.12)]
    fin = [(tail + d * size * 0.2, cy + size * 0.1), (tail - d * size * 0.05, cy + size * 0.35), (tail, cy + size * 0.1)]
    return [body, bridge, fin], tail
