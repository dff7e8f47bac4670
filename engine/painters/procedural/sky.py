"""Sky, water and weather for the procedural painter: the sky gradient, sun, moon, stars, clouds,
mirroring water, fog banks, rain, snow and lightning.

Each function paints straight onto a `Canvas` (or its light buffer) in the colours it is given.
Order matters and is the caller's: the sun before clouds (thick ones hide it), water after
everything it should mirror, rain and snow last.

This module must not choose colours, hours or weather from a prompt (`landscape.py` and
`lighting.py` do), import anything beyond numpy, PIL and the canvas helpers, or keep state
between calls.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import ImageDraw

from engine.painters.procedural.canvas import Canvas, c3, fbm2d, mix, smoothstep, upsample


# --------------------------------------------------------------------------- sky and lights


def sky_rows(canvas: Canvas, zenith: np.ndarray, horizon_rgb: np.ndarray, horizon_y: float) -> np.ndarray:
    """Per-row sky colours (3, rows): zenith at the top, easing into the horizon colour."""
    t = np.clip(canvas.ys / max(horizon_y, 1e-3), 0.0, 1.0)
    t = t * np.sqrt(t)  # eases slowly away from the zenith
    return mix(zenith[:, None], horizon_rgb[:, None], t[None, :]).astype(np.float32)


def sun(canvas: Canvas, cx: float, cy: float, r: float, disc_rgb: np.ndarray) -> None:
    """The sun's soft-edged disc (draw before clouds, so thick ones hide it)."""
    found = canvas.disc(cx, cy, r)
    if found:
        top, left, cover, _, _ = found
        canvas.blend(disc_rgb, cover, top, left)


def sun_glow(canvas: Canvas, cx: float, cy: float, r: float, glow_rgb: np.ndarray, low: float) -> None:
    """The sun's light: a wide horizontal haze when low (low in 0..1) and a bright halo."""
    canvas.add_glow(cx, cy, 0.6 + 0.8 * low, 0.18 + 0.12 * (1 - low), glow_rgb, 0.3 + 0.25 * low)
    canvas.add_glow(cx, cy, r * 4.0, r * 4.0, glow_rgb, 0.45)


def moon(canvas: Canvas, rng: np.random.Generator, cx: float, cy: float, r: float, disc_rgb: np.ndarray,
         glow_rgb: np.ndarray) -> None:
    """A moon with soft maria and, sometimes, a crescent phase; a cool halo around it."""
    canvas.add_glow(cx, cy, r * 9.0, r * 9.0, glow_rgb, 0.16)
    canvas.add_glow(cx, cy, r * 2.5, r * 2.5, glow_rgb, 0.22)
    found = canvas.disc(cx, cy, r)
    if not found:
        return
    top, left, cover, u, v = found
    spots = np.zeros_like(cover)
    for _ in range(5):
        sx, sy, sr = rng.uniform(-0.6, 0.6), rng.uniform(-0.6, 0.6), rng.uniform(0.15, 0.35)
        spots += np.exp(-((u - sx) ** 2 + (v - sy) ** 2) / (sr * sr))
    shade = 1.0 - 0.16 * np.clip(spots, 0.0, 1.0)
    if rng.random() < 0.45:  # crescent: a shadow disc slides over the moon
        off = rng.choice([-1.0, 1.0]) * rng.uniform(0.35, 0.7)
        shadow = np.clip((np.sqrt((u - off) ** 2 + (v + 0.1) ** 2) - 1.0) * r * canvas.height + 0.5, 0.0, 1.0)
        cover = cover * shadow
    canvas.blend(c3(disc_rgb) * shade, cover, top, left)


def stars(canvas: Canvas, rng: np.random.Generator, count: int, y_max: float, strength: float) -> None:
    """Scatter stars above y_max: mostly faint points, a few bright, slightly coloured ones."""
    count = int(count * canvas.density())
    if strength <= 0.0 or count == 0:
        return
    xs = rng.uniform(0.0, canvas.aspect, count)
    ys = rng.uniform(0.0, 1.0, count) ** 1.3 * y_max
    bright = rng.random(count) ** 4.0
    tint = np.stack([1.0 - 0.25 * rng.random(count), np.full(count, 0.95), 0.8 + 0.2 * rng.random(count)])
    ix = np.minimum((xs * canvas.height).astype(np.int64), canvas.width - 1)
    iy = np.minimum((ys * canvas.height).astype(np.int64), canvas.height - 1)
    light = (tint * (strength * (0.25 + 0.75 * bright) * smoothstep(y_max, y_max * 0.6, ys))).astype(np.float32)
    size = max(1, round(canvas.height / 900))
    for dy in range(size):
        for dx in range(size):
            canvas.px[:, np.minimum(iy + dy, canvas.height - 1), np.minimum(ix + dx, canvas.width - 1)] += light
    big = bright > 0.55  # a soft cross on the brightest
    for dy, dx in ((0, size), (0, -1), (size, 0), (-1, 0)):
        yy = np.clip(iy[big] + dy, 0, canvas.height - 1)
        xx = np.clip(ix[big] + dx, 0, canvas.width - 1)
        canvas.px[:, yy, xx] += 0.35 * light[:, big]


def clouds(canvas: Canvas, rng: np.random.Generator, horizon_y: float, cover: float, lit: np.ndarray,
           shade: np.ndarray, heavy: bool) -> None:
    """Soft stretched clouds above the horizon: bright edges, darker thick cores."""
    rows = canvas.row(horizon_y + 0.02)
    if rows == 0:
        return
    lw, lh = canvas.light_w, canvas.light_h
    field = fbm2d(rng, lw, lh, canvas.aspect, cells=2, octaves=5, stretch=0.55)
    y = canvas.lys[:, None]
    envelope = smoothstep(horizon_y + 0.02, horizon_y - 0.25, y)
    if not heavy:
        envelope = envelope * smoothstep(-0.1, 0.25, y)
    threshold = 0.62 - 0.3 * cover
    density = smoothstep(threshold, threshold + (0.12 if heavy else 0.16), field) * envelope
    core = smoothstep(threshold, threshold + 0.3, field)
    core = core * (0.9 + 0.2 * smoothstep(horizon_y, 0.0, y))  # (also a touch darker low down)
    part = rows / canvas.height
    alpha = upsample(density * (0.95 if heavy else 0.85), canvas.width, rows, rows=part)
    core = upsample(core, canvas.width, rows, rows=part)
    colour = c3(lit) + c3(shade - lit) * core
    canvas.blend(colour, alpha)


# --------------------------------------------------------------------------- water and weather


def water(canvas: Canvas, rng: np.random.Generator, waterline: float, tint: np.ndarray,
          glitter_x: float | None, glitter_rgb: np.ndarray, calm: float) -> None:
    """Mirror everything above the waterline into rippled, tinted water with a glitter path.

    calm runs from 0 (storm: choppy, broken reflections, crests) to 1 (a still lake mirror).
    """
    top = canvas.row(waterline)
    n = canvas.height - top
    if n <= 0 or top == 0:
        return
    depth = (np.arange(n, dtype=np.float32) + 1.0) / canvas.height  # distance below the waterline
    lanes = 160  # ripple rows, spaced in perspective: thin near the horizon, broad near the viewer
    ripples = upsample(fbm2d(rng, canvas.light_w, lanes, canvas.aspect, cells=64, octaves=2, stretch=0.04),
                       canvas.width, lanes)
    lane = np.log(depth / depth[0]) / max(math.log(float(depth[-1] / depth[0])), 1e-6) if n > 1 else np.zeros(1)
    lane = lane * (lanes - 1.001)
    below = lane.astype(np.int64)
    frac = (lane - below).astype(np.float32)[:, None]
    ripple = ripples[below] * (1.0 - frac) + ripples[below + 1] * frac
    chop = 1.0 - calm
    mirror = np.clip(top - 1 - np.arange(n), 0, top - 1)
    fresnel_rows = (0.85 - 0.5 * smoothstep(0.0, 1.0 - waterline, depth))[:, None]
    foam = c3(mix(tint, np.ones(3, np.float32), 0.6))
    path = None
    if glitter_x is not None:
        spread = 0.03 + 0.3 * depth[:, None]
        path = np.exp(-(((canvas.xs[None, :] - glitter_x) / spread) ** 2)) * np.float32(0.9 - 0.5 * calm)
    for r0, r1 in canvas.strips(0, n):
        wave = ripple[r0:r1]
        reflected = canvas.px[:, mirror[r0:r1]]
        fresnel = fresnel_rows[r0:r1] * (1.0 - 0.55 * chop * wave)
        body = c3(tint) + (reflected - c3(tint)) * fresnel
        body *= 1.0 + (0.35 * chop + 0.1) * (wave - 0.5)
        body += (smoothstep(0.66, 0.8, wave) * np.float32(0.3 * chop)) * foam
        if path is not None:
            body += (smoothstep(0.55, 0.72, wave) * path[r0:r1]) * c3(glitter_rgb)
        canvas.px[:, top + r0: top + r1] = body


def fog_band(canvas: Canvas, rng: np.random.Generator, y: float, thickness: float, colour: np.ndarray,
             alpha: float) -> None:
    """A horizontal, wispy bank of mist centred on y."""
    r0, r1 = canvas.row(y - thickness * 1.5), canvas.row(y + thickness * 1.5)
    if r1 <= r0:
        return
    wisps = fbm2d(rng, canvas.light_w, max(2, canvas.light_h * (r1 - r0) // canvas.height), canvas.aspect,
                  cells=1, octaves=3, stretch=1.0)
    wisps = upsample(wisps, canvas.width, r1 - r0)
    profile = np.exp(-(((canvas.ys[r0:r1] - y) / thickness) ** 2))[:, None]
    canvas.blend(colour, np.clip(profile * alpha * (0.55 + 0.9 * (wisps - 0.5) + 0.45), 0.0, 1.0), r0, 0)


def rain(canvas: Canvas, rng: np.random.Generator, amount: float, colour: np.ndarray, slant: float) -> None:
    """Thin slanted streaks over the whole picture, of mixed length and brightness."""
    count = int((900 * amount * min(1.0, canvas.aspect / 1.78) + 20) * canvas.density())
    xs = rng.uniform(-0.2, canvas.aspect + 0.2, count)
    ys = rng.uniform(-0.1, 1.0, count)
    lengths = rng.uniform(0.02, 0.08, count)
    shades = rng.uniform(50, 150, count).astype(int)
    width = max(1, round(canvas.height / 700))

    def draw(d: ImageDraw.ImageDraw, scale: float) -> None:
        for x, y, ln, s in zip(xs, ys, lengths, shades):
            d.line([(x * scale, y * scale), ((x + slant * ln) * scale, (y + ln) * scale)], fill=int(s), width=width)

    canvas.blend(colour, canvas.mask_layer(draw) * np.float32(0.55))


def snow(canvas: Canvas, rng: np.random.Generator, amount: float, colour: np.ndarray) -> None:
    """Falling flakes: many small far ones, a few large soft near ones."""
    count = int(500 * amount * canvas.density())
    xs, ys = rng.uniform(0, canvas.aspect, count), rng.uniform(0, 1, count)
    sizes = 0.0015 + 0.006 * rng.random(count) ** 3

    def draw(d: ImageDraw.ImageDraw, scale: float) -> None:
        for x, y, s in zip(xs, ys, sizes):
            r = max(0.6, s * scale)
            d.ellipse([x * scale - r, y * scale - r, x * scale + r, y * scale + r], fill=int(120 + 135 * (s > 0.004)))

    canvas.blend(colour, canvas.mask_layer(draw, scale=2) * np.float32(0.9))


def lightning(canvas: Canvas, rng: np.random.Generator, horizon_y: float, colour: np.ndarray) -> None:
    """A jagged bolt from the clouds towards the horizon, with a flash in the light buffer."""
    x, y = rng.uniform(0.15, 0.85) * canvas.aspect, 0.05
    points = [(x, y)]
    while y < horizon_y:
        y += rng.uniform(0.02, 0.06)
        x += rng.normal(0.0, 0.025)
        points.append((x, min(y, horizon_y + 0.02)))
    width = max(1, round(canvas.height / 400))

    def draw(d: ImageDraw.ImageDraw, scale: float) -> None:
        d.line([(px * scale, py * scale) for px, py in points], fill=255, width=width, joint="curve")

    canvas.blend(colour, canvas.mask_layer(draw))
    for px, py in points[::3]:
        canvas.glow(px, py, 0.06, colour, 0.05)
    canvas.glow(points[0][0], 0.1, 0.5, colour, 0.15)
