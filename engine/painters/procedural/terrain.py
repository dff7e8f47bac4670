"""Terrain silhouettes for the procedural painter: mountains, dunes, hills, trees, buildings, towers
and cliffs.

Each function returns a silhouette as a top function (`TopFn`: x in image heights -> the top of
the shape, 0..1 from the top; `BELOW` where there is nothing) or, for towers, as polygons; a
`Canvas` fills it. `layer_colours` gives a layer its per-row colours, hazed with distance and
misty at its foot. Every shape is fixed by the generator it is given, at any picture size.

This module draws shapes only: it must not decide what a scene contains or in which colours
(`landscape.py` does), read prompts, import anything beyond numpy and the canvas helpers, or keep
state between calls.
"""

from __future__ import annotations

import numpy as np

from engine.painters.procedural.canvas import BELOW, Canvas, TopFn, fbm1d, mix, smoothstep


def layer_colours(canvas: Canvas, base: np.ndarray, haze: np.ndarray, haze_amount: float,
                  top: float, bottom: float, mist: float) -> np.ndarray:
    """Per-row colours (3, rows) for one silhouette layer: hazed by distance, misty at its foot."""
    colour = mix(base, haze, haze_amount)
    ramp = smoothstep(top, bottom, canvas.ys)[None, :] * mist
    return mix(colour[:, None], haze[:, None], ramp).astype(np.float32)


def peaks(rng: np.random.Generator, aspect: float, base: float, height: float, count: int,
          roughness: float = 0.02, sharp: float = 1.0) -> tuple[TopFn, TopFn]:
    """A mountain range: the max of triangular peaks plus fractal roughness.

    Returns (top, smooth_top): the second has no roughness and drives face shading.
    """
    centres = rng.uniform(-0.2, aspect + 0.2, count)
    heights = height * rng.uniform(0.35, 1.0, count) ** 1.3
    widths = heights / (rng.uniform(0.5, 1.0, count) * sharp)  # half-width of each peak's foot
    rough = fbm1d(rng, 9.0, octaves=4)

    def smooth_top(x: np.ndarray) -> np.ndarray:
        d = np.clip(1.0 - np.abs(x[None, :] - centres[:, None]) / widths[:, None], 0.0, 1.0)
        ridge = np.max(heights[:, None] * d * np.sqrt(d), axis=0)  # sharp peaks, flaring feet
        return base - ridge

    def top(x: np.ndarray) -> np.ndarray:
        return smooth_top(x) - roughness * (rough(x) - 0.5) * 2.0

    return top, smooth_top


def dunes(rng: np.random.Generator, aspect: float, base: float, height: float, count: int) -> TopFn:
    """Sand dunes: long gentle windward slopes and short steep lee faces, overlapping."""
    crests = np.sort(rng.uniform(-0.3, aspect + 0.3, count))
    heights = height * rng.uniform(0.5, 1.0, count)
    reach = heights * rng.uniform(5.0, 8.0, count)  # windward length
    swell = fbm1d(rng, 1.5, octaves=2)
    wind = 1.0 if rng.random() < 0.5 else -1.0

    def top(x: np.ndarray) -> np.ndarray:
        t = (x[None, :] - crests[:, None]) * wind
        windward = 1.0 + t / reach[:, None]
        lee = 1.0 - t / (reach[:, None] * 0.3)
        shape = np.clip(np.where(t < 0.0, windward, lee), 0.0, 1.0)
        return base - height * 0.4 * swell(x) - np.max(heights[:, None] * shape * shape * (3 - 2 * shape), axis=0)

    return top


def hills(rng: np.random.Generator, base: float, height: float, frequency: float) -> TopFn:
    """Rolling hills: low-frequency fractal noise."""
    field = fbm1d(rng, frequency, octaves=3, gain=0.4)
    return lambda x: base - height * field(x)


def treeline(rng: np.random.Generator, aspect: float, ground: TopFn, height: float, density: float,
             conifer: float = 0.8, x_range: tuple[float, float] | None = None) -> TopFn:
    """A band of trees standing on a ground line: tiered conifers and round broadleaf crowns."""
    lo, hi = x_range if x_range else (-0.05, aspect + 0.05)
    count = max(1, int((hi - lo) * density))
    centres = np.sort(rng.uniform(lo, hi, count))
    tall = height * rng.uniform(0.45, 1.0, count)
    half = tall * rng.uniform(0.2, 0.3, count)
    spiky = rng.random(count) < conifer
    feet = ground(centres)

    def top(x: np.ndarray) -> np.ndarray:
        out = ground(x)
        order = np.argsort(x, kind="stable")
        xs = x[order]
        spans = np.searchsorted(xs, np.stack([centres - half * 1.2, centres + half * 1.2]))
        for c, t, w, foot, pine, i0, i1 in zip(centres, tall, half, feet, spiky, spans[0], spans[1]):
            if i1 <= i0:
                continue
            idx = order[i0:i1]
            d = np.abs(x[idx] - c)
            if pine:  # three stacked cones, each wider than the one above
                tiers = []
                for k in range(3):
                    reach = w * (0.45 + 0.3 * k)
                    tiers.append(np.where(d <= reach, t * (1 - 0.25 * k) - 0.5 * t * d / reach, -1.0))
                tree = np.maximum.reduce(tiers)
            else:
                r = d / w
                tree = np.where(r < 1.0, t * (0.55 + 0.45 * np.sqrt(np.clip(1.0 - r * r, 0.0, 1.0))), -1.0)
            out[idx] = np.minimum(out[idx], np.where(tree > 0.0, foot - tree, BELOW))
        return out

    return top


def skyline(rng: np.random.Generator, x_range: tuple[float, float], base: float, height: float,
            style: str, spires: bool = True) -> tuple[TopFn, TopFn, list[tuple[float, float, float, float]], np.ndarray]:
    """Buildings along a ground line.

    Returns (top, walls_top, windows, boxes): the full outline, the outline without roofs (to
    paint walls over roofs), window rectangles (x0, y0, x1, y1) and the (x0, x1, y, roof) table.

    style: "village" (gabled roofs), "city" (flat tops, tall towers), "castle" (crenellations).
    spires: whether a village may have a church spire (a lone cottage has none).
    """
    boxes, windows = [], []
    x = x_range[0]
    while x < x_range[1]:
        width = height * rng.uniform(0.5, 1.2) * (0.7 if style == "city" else 1.0)
        tall = height * (rng.uniform(0.35, 1.0) ** (0.7 if style == "city" else 1.6))
        if style == "castle" and rng.random() < 0.3:
            tall, width = tall * 1.6, width * 0.6
        roof = 0.0 if style == "city" else (width * rng.uniform(0.35, 0.6) if style == "village" else -1.0)
        if style == "village" and spires and rng.random() < 0.08:
            roof = width * 2.2  # a church spire
        boxes.append((x, x + width, base - tall, roof))
        rows, cols = max(1, int(tall / (height * 0.14))), max(1, int(width / (height * 0.16)))
        for r in range(rows):
            for c in range(cols):
                if rng.random() < 0.45:
                    wx = x + (c + 0.3) * width / cols
                    wy = base - tall + (r + 0.3) * tall / rows
                    windows.append((wx, wy, wx + 0.35 * width / cols, wy + 0.35 * tall / rows))
        x += width * rng.uniform(0.85, 1.05)
    table = np.array(boxes, np.float32)

    def outline(x: np.ndarray, roofs: bool) -> np.ndarray:
        x0, x1, y, roof = (table[:, i, None] for i in range(4))
        inside = (x[None, :] >= x0) & (x[None, :] < x1)
        if not roofs:
            return np.min(np.where(inside, y, BELOW), axis=0)
        mid, half = (x0 + x1) / 2.0, (x1 - x0) / 2.0
        gable = np.where(roof > 0.0, roof * (1.0 - np.abs(x[None, :] - mid) / half), 0.0)
        teeth = np.where((roof < 0.0) & (np.floor((x[None, :] - x0) / (height * 0.07)) % 2 == 0),
                         height * 0.06, 0.0)
        return np.min(np.where(inside, y - gable - teeth, BELOW), axis=0)

    return (lambda x: outline(x, True)), (lambda x: outline(x, False)), windows, table


def tower_shapes(cx: float, base: float, height: float, width: float, lighthouse: bool):
    """Polygons of a tower: (body polygons, lit polygons, lamp position).

    A lighthouse gets a gallery, a glazed lantern (lit) and a domed cap; other towers get a
    conical roof and one lit window.
    """
    top_y, foot, head = base - height, width / 2.0, width * 0.32
    body = [[(cx - foot, base), (cx - head, top_y), (cx + head, top_y), (cx + foot, base)]]
    if lighthouse:
        g = width * 0.09
        body.append([(cx - width * 0.45, top_y), (cx + width * 0.45, top_y), (cx + width * 0.45, top_y - g),
                     (cx - width * 0.45, top_y - g)])
        lantern_top = top_y - g - width * 0.42
        lit = [[(cx - width * 0.22, top_y - g), (cx + width * 0.22, top_y - g), (cx + width * 0.22, lantern_top),
                (cx - width * 0.22, lantern_top)]]
        body.append([(cx - width * 0.3, lantern_top), (cx + width * 0.3, lantern_top), (cx, lantern_top - width * 0.35)])
        return body, lit, (cx, (top_y - g + lantern_top) / 2.0)
    body.append([(cx - width * 0.55, top_y), (cx + width * 0.55, top_y), (cx, top_y - width * 1.5)])
    wy = top_y + height * 0.12
    lit = [[(cx - width * 0.07, wy), (cx + width * 0.07, wy), (cx + width * 0.07, wy + width * 0.25),
            (cx - width * 0.07, wy + width * 0.25)]]
    return body, lit, (cx, wy + width * 0.12)


def cliff(rng: np.random.Generator, aspect: float, side: str, base: float,
          height: float) -> tuple[TopFn, TopFn, float]:
    """A headland rising from the water on one side.

    Returns (top, smooth_top, x of the plateau where a lighthouse can stand).
    """
    edge = aspect * rng.uniform(0.32, 0.45)
    rough, swell = fbm1d(rng, 16.0, octaves=3), fbm1d(rng, 2.5, octaves=2)
    sign = 1.0 if side == "left" else -1.0
    pivot = edge if side == "left" else aspect - edge

    def smooth_top(x: np.ndarray) -> np.ndarray:
        t = (pivot - x) * sign  # > 0 on the land side, in image heights from the brink
        rise = smoothstep(-0.03, 0.05, t) * (0.75 + 0.25 * smoothstep(0.0, 0.6, t))
        return base - height * rise * (0.85 + 0.3 * swell(x))

    def top(x: np.ndarray) -> np.ndarray:
        t = (pivot - x) * sign
        ledges = 0.02 * (rough(x) - 0.5) * (1.0 + 2.0 * smoothstep(0.06, -0.02, t))
        return smooth_top(x) - ledges * (smooth_top(x) < base - 0.01)

    plateau = pivot - sign * 0.1
    return top, smooth_top, plateau
