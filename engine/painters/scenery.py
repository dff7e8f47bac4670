"""Drawing primitives for the procedural painter: canvas, noise, silhouettes, sky, water, weather,
rooms and space.

Everything works on a planar float32 RGB canvas (3, rows, cols) in 0..1, vectorised with numpy
over whole rows and columns (never a Python loop per pixel) and worked in row strips where the
temporaries would be large; PIL does resizing and thin shapes. Positions are resolution
independent: x and y are measured in image heights (x runs 0..aspect, y runs 0..1 from the top),
so one seed gives the same composition at every size of the same aspect ratio.

This module knows nothing about prompts or moods: `procedural.py` decides what to draw, where and
in which colours. It must not import anything beyond numpy and PIL, nor keep state between calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

TopFn = Callable[[np.ndarray], np.ndarray]  # x (image heights) -> top of a silhouette (0..1 from top)
BELOW = 9.0  # a silhouette top that lies far below the picture: "nothing here"


def rgb(hex_code: str) -> np.ndarray:
    """'#rrggbb' -> read-only float32 array in 0..1 (palette tables stay readable as hex, and
    shared between threads without risk: no painting step can change them in place)."""
    value = int(hex_code.lstrip("#"), 16)
    colour = np.array([(value >> 16) & 255, (value >> 8) & 255, value & 255], np.float32) / 255.0
    colour.flags.writeable = False
    return colour


def mix(a, b, t):
    """Linear interpolation that works for scalars, colours and arrays alike."""
    return a + (b - a) * t


def smoothstep(edge0: float, edge1: float, x):
    """Hermite ramp from 0 at edge0 to 1 at edge1 (edges may be in either order)."""
    t = np.clip((x - edge0) / (edge1 - edge0 if edge1 != edge0 else 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def upsample(field: np.ndarray, width: int, height: int, smooth: bool = False,
             rows: float | None = None) -> np.ndarray:
    """Resize a float (H, W) or planar (C, H, W) array with PIL's C resampler (bilinear or bicubic).

    rows: resize only the top fraction of the source (0..1) to (width, height): cheaper when only
    the sky part of a field is needed.
    """
    if field.ndim == 3:
        return np.stack([upsample(plane, width, height, smooth, rows) for plane in field])
    method = Image.Resampling.BICUBIC if smooth else Image.Resampling.BILINEAR
    image = Image.fromarray(np.ascontiguousarray(field, dtype=np.float32))
    box = None if rows is None else (0.0, 0.0, float(image.width), float(image.height) * rows)
    return np.asarray(image.resize((width, height), method, box=box), dtype=np.float32)


# --------------------------------------------------------------------------- noise


class Noise1D:
    """Smooth value noise on a fixed 256-cell lattice, so its draws never depend on image size."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.values = rng.random(257).astype(np.float32)
        self.values[256] = self.values[0]

    def __call__(self, x: np.ndarray, frequency: float) -> np.ndarray:
        p = x * frequency
        cell = np.floor(p)
        t = p - cell
        t = t * t * (3.0 - 2.0 * t)
        i = cell.astype(np.int64) % 256
        return mix(self.values[i], self.values[i + 1], t)


def fbm1d(rng: np.random.Generator, frequency: float, octaves: int = 4, gain: float = 0.5) -> TopFn:
    """Fractal 1-D noise in 0..1: a function of x, fixed by rng."""
    noise, offsets = Noise1D(rng), rng.random(octaves) * 97.0

    def field(x: np.ndarray) -> np.ndarray:
        total, amp, norm = np.zeros_like(x), 1.0, 0.0
        for k in range(octaves):
            total += amp * noise(x + offsets[k], frequency * 2.0**k)
            norm, amp = norm + amp, amp * gain
        return total / norm

    return field


def fbm2d(rng: np.random.Generator, width: int, height: int, aspect: float, cells: int = 2,
          octaves: int = 4, stretch: float = 1.0) -> np.ndarray:
    """Fractal 2-D value noise in about 0..1 at (height, width); stretch < 1 widens features."""
    total, amp, norm = np.zeros((height, width), np.float32), 1.0, 0.0
    for k in range(octaves):
        rows = cells * 2**k
        cols = max(1, math.ceil(rows * aspect * stretch))
        grid = rng.random((rows + 1, cols + 1)).astype(np.float32)
        total += amp * upsample(grid, width, height, smooth=True)
        norm, amp = norm + amp, amp * 0.5
    return total / norm


# --------------------------------------------------------------------------- canvas


def c3(colour) -> np.ndarray:
    """A colour (3,) as a (3, 1, 1) array that broadcasts over planar (3, rows, cols) pixels."""
    return np.asarray(colour, np.float32).reshape(3, 1, 1)


class Canvas:
    """A planar float32 RGB picture (3, rows, cols) in 0..1 plus a quarter-size additive light buffer.

    Planar layout on purpose: numpy broadcasts a (rows, cols) alpha over three contiguous planes
    several times faster than over a trailing axis of length 3.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.aspect = width / height
        self.px = np.zeros((3, height, width), np.float32)
        self.xs = ((np.arange(width) + 0.5) / height).astype(np.float32)
        self.ys = ((np.arange(height) + 0.5) / height).astype(np.float32)
        self._edges = (np.arange(width + 1) / height).astype(np.float32)
        self.light_w, self.light_h = max(2, -(-width // 4)), max(2, -(-height // 4))
        self.light = np.zeros((3, self.light_h, self.light_w), np.float32)
        self.lxs = ((np.arange(self.light_w) + 0.5) / self.light_w * self.aspect).astype(np.float32)
        self.lys = ((np.arange(self.light_h) + 0.5) / self.light_h).astype(np.float32)

    def strips(self, start: int = 0, stop: int | None = None):
        """Row ranges of about 64k pixels covering start..stop: working strip by strip keeps numpy's
        temporaries in cache and off the page-fault path (measured 2x faster at 1280x720)."""
        stop = self.height if stop is None else stop
        step = max(1, 65536 // self.width)
        return [(r, min(stop, r + step)) for r in range(start, stop, step)]

    def density(self) -> float:
        """1 from about 480x270 up, less below: scattered details (stars, rain) thin out on tiny
        pictures instead of covering every pixel."""
        return min(1.0, self.width * self.height / (480.0 * 270.0))

    def row(self, y: float) -> int:
        """Normalised y -> pixel row, clipped to 0..height."""
        return int(min(self.height, max(0, round(y * self.height))))

    def col(self, x: float) -> int:
        """x in image heights -> pixel column, clipped to 0..width."""
        return int(min(self.width, max(0, round(x * self.height))))

    def fill_rows(self, colours: np.ndarray) -> None:
        """Fill the whole picture with per-row colours (3, rows)."""
        self.px[:] = colours[:, :, None]

    def paint_profile(self, top_of: TopFn, colours: np.ndarray, column_gain: np.ndarray | None = None,
                      gain_depth: float = 0.15) -> None:
        """Fill everything below a silhouette line with per-row colours, anti-aliased.

        Args:
            top_of: x -> top of the silhouette (0..1 from the top); BELOW where there is none.
            colours: (3, height) colour of each row (mist, haze and bands live here).
            column_gain: optional (width,) brightness factor per column (lit and shaded faces),
                strongest at the ridge and fading out gain_depth (image heights) below it.
        """
        tops = top_of(np.concatenate([self._edges, self.xs])).astype(np.float32) * self.height
        edges, centres = tops[: self.width + 1], tops[self.width + 1:]
        low = np.minimum(np.minimum(edges[:-1], edges[1:]), centres)
        high = np.maximum(np.maximum(edges[:-1], edges[1:]), centres)
        start = int(max(0.0, math.floor(float(low.min()))))
        if start >= self.height:
            return
        solid = int(min(self.height, max(start, math.ceil(float(high.max())) + 1)))
        shaded = solid if column_gain is None else int(min(self.height, solid + gain_depth * self.height + 1))
        if shaded < self.height:  # rows wholly inside the silhouette, unshaded: plain assignment
            self.px[:, shaded:] = colours[:, shaded:, None]
        inv_span = 1.0 / (high - low + 1.0)
        gain = None if column_gain is None else column_gain.astype(np.float32) - 1.0
        for r0, r1 in self.strips(start, shaded):
            rows = np.arange(r0, r1, dtype=np.float32)[:, None]
            fill = colours[:, r0:r1, None]
            if gain is not None:
                fade = np.clip(1.0 - (rows - centres) * np.float32(1.0 / (gain_depth * self.height)), 0.0, 1.0)
                fill = fill * (1.0 + gain * fade)
            cover = np.clip((rows + 1.0 - low) * inv_span, 0.0, 1.0)
            region = self.px[:, r0:r1]
            region += (fill - region) * cover

    def blend(self, colour, alpha: np.ndarray, top: int = 0, left: int = 0) -> None:
        """Alpha-blend a colour (3,) or planar field (3, h, w) over the box whose corner is (top, left)."""
        if np.ndim(colour) == 1:  # a flat colour: only the rows and columns the mask touches
            rows, cols = np.nonzero(alpha.any(axis=1))[0], np.nonzero(alpha.any(axis=0))[0]
            if len(rows) == 0:
                return
            r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
            alpha, top, left, colour = alpha[r0:r1, c0:c1], top + r0, left + c0, c3(colour)
        h, w = alpha.shape
        for r0, r1 in self.strips(0, h):
            region = self.px[:, top + r0: top + r1, left: left + w]
            part = colour if colour.shape[1] == 1 else colour[:, r0:r1]
            region += (part - region) * alpha[r0:r1]

    def add_glow(self, cx: float, cy: float, rx: float, ry: float, colour: np.ndarray, strength: float) -> None:
        """Add a separable Gaussian glow at full resolution (sun halos, sky light)."""
        gx = np.exp(-(((self.xs - cx) / rx) ** 2))
        gy = np.exp(-(((self.ys - cy) / ry) ** 2))
        cols, rows = np.nonzero(gx > 2e-3)[0], np.nonzero(gy > 2e-3)[0]
        if len(cols) == 0 or len(rows) == 0:
            return
        c0, c1 = cols[0], cols[-1] + 1
        gx = gx[None, c0:c1] * np.float32(strength)
        for r0, r1 in self.strips(rows[0], rows[-1] + 1):
            self.px[:, r0:r1, c0:c1] += (gy[r0:r1, None] * gx) * c3(colour)

    def glow(self, cx: float, cy: float, radius: float, colour: np.ndarray, strength: float) -> None:
        """Add a soft radial light into the quarter-size light buffer (lamps, windows, flashes)."""
        d2 = (self.lxs[None, :] - cx) ** 2 + (self.lys[:, None] - cy) ** 2
        self.light += np.exp(d2 * np.float32(-1.0 / (radius * radius))) * np.float32(strength) * c3(colour)

    def beam(self, ox: float, oy: float, angle: float, spread: float, length: float,
             colour: np.ndarray, strength: float) -> None:
        """Add a cone of light from (ox, oy) pointing at angle (radians, 0 = right, y down)."""
        dx, dy = self.lxs[None, :] - ox, self.lys[:, None] - oy
        dist = np.sqrt(dx * dx + dy * dy) + np.float32(1e-6)
        off = (np.arctan2(dy, dx) - np.float32(angle) + np.float32(math.pi)) % np.float32(2 * math.pi) - np.float32(math.pi)
        off *= np.float32(1.0 / spread)
        cone = np.exp(-(off * off) - dist * np.float32(1.0 / length)) * smoothstep(0.0, 0.03, dist)
        self.light += (cone * np.float32(strength)) * c3(colour)

    def disc(self, cx: float, cy: float, r: float):
        """Bounding box of a disc: (top, left, cover (h, w), u, v) with u, v in disc radii; or None."""
        px_r = r * self.height
        x0, x1 = self.col(cx - r) - 1, self.col(cx + r) + 2
        y0, y1 = self.row(cy - r) - 1, self.row(cy + r) + 2
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        if x1 <= x0 or y1 <= y0:
            return None
        u = (self.xs[x0:x1][None, :] - cx) / np.float32(r)
        v = (self.ys[y0:y1][:, None] - cy) / np.float32(r)
        dist = np.sqrt(u * u + v * v)
        cover = np.clip((1.0 - dist) * np.float32(px_r) + 0.5, 0.0, 1.0)
        return y0, x0, cover, u, v

    def mask_layer(self, draw: Callable[[ImageDraw.ImageDraw, float], None], scale: int = 1) -> np.ndarray:
        """Draw shapes with PIL into a greyscale mask (0..1); scale > 1 supersamples for smooth edges."""
        mask = Image.new("L", (self.width * scale, self.height * scale), 0)
        draw(ImageDraw.Draw(mask), float(self.height * scale))
        if scale > 1:
            mask = mask.resize((self.width, self.height), Image.Resampling.BOX)
        return np.asarray(mask, dtype=np.float32) * np.float32(1.0 / 255.0)

    def light_at(self, x: float, y: float) -> np.ndarray:
        """The light buffer's colour (3,) at a point (to tint solid shapes drawn over a glow)."""
        col = min(self.light_w - 1, max(0, int(x / self.aspect * self.light_w)))
        row = min(self.light_h - 1, max(0, int(y * self.light_h)))
        return self.light[:, row, col]

    def develop(self, matrix: np.ndarray, offset: float, grain: float, rng: np.random.Generator,
                vignette: float = 0.35) -> Image.Image:
        """The finished 8-bit image: light buffer added, colour matrix (3x3, to 0..255 units) and
        offset applied, vignette, film grain. Works in row strips so temporaries stay small."""
        light, lit_rows = None, (0, 0)
        glowing = np.nonzero((self.light.max(axis=0) > 1.0 / 1024.0).any(axis=1))[0]
        if len(glowing):  # upsample only the band of rows the light buffer reaches
            r0 = max(0, (glowing[0] - 1) * self.height // self.light_h)
            r1 = min(self.height, (glowing[-1] + 2) * self.height // self.light_h)
            band = Image.Resampling.BILINEAR
            light = [np.asarray(Image.fromarray(plane).resize(
                (self.width, r1 - r0), band, box=(0.0, r0 * self.light_h / self.height, float(self.light_w),
                                                  r1 * self.light_h / self.height))) for plane in self.light]
            lit_rows = (r0, r1)
        vx = (1.0 - vignette * 0.9 * ((self.xs / self.aspect - 0.5) * 2.0) ** 2).astype(np.float32)
        vy = (1.0 - vignette * 1.1 * ((self.ys - 0.5) * 2.0) ** 2).astype(np.float32)
        m = matrix.astype(np.float32)
        out = np.empty((3, self.height, self.width), np.uint8)
        step = max(1, 65536 // self.width)
        for r0 in range(0, self.height, step):
            r1 = min(self.height, r0 + step)
            src = self.px[:, r0:r1]
            if light is not None and r1 > lit_rows[0] and r0 < lit_rows[1]:
                a, b = max(r0, lit_rows[0]), min(r1, lit_rows[1])
                src = src.copy()
                for k in range(3):
                    src[k, a - r0: b - r0] += light[k][a - lit_rows[0]: b - lit_rows[0]]
            shade = vy[r0:r1, None] * vx[None, :]
            noise = rng.random((r1 - r0, self.width), dtype=np.float32)
            noise -= np.float32(0.5)
            noise *= np.float32(grain * 255.0)
            noise += np.float32(offset)
            for k in range(3):
                plane = src[0] * m[k, 0]
                plane += src[1] * m[k, 1]
                plane += src[2] * m[k, 2]
                plane *= shade
                plane += noise
                out[k, r0:r1] = np.clip(plane, 0.0, 255.0, out=plane)
        return Image.merge("RGB", [Image.fromarray(plane) for plane in out])


# --------------------------------------------------------------------------- silhouettes


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
            style: str) -> tuple[TopFn, TopFn, list[tuple[float, float, float, float]], np.ndarray]:
    """Buildings along a ground line.

    Returns (top, walls_top, windows, boxes): the full outline, the outline without roofs (to
    paint walls over roofs), window rectangles (x0, y0, x1, y1) and the (x0, x1, y, roof) table.

    style: "village" (gabled roofs), "city" (flat tops, tall towers), "castle" (crenellations).
    """
    boxes, windows = [], []
    x = x_range[0]
    while x < x_range[1]:
        width = height * rng.uniform(0.5, 1.2) * (0.7 if style == "city" else 1.0)
        tall = height * (rng.uniform(0.35, 1.0) ** (0.7 if style == "city" else 1.6))
        if style == "castle" and rng.random() < 0.3:
            tall, width = tall * 1.6, width * 0.6
        roof = 0.0 if style == "city" else (width * rng.uniform(0.35, 0.6) if style == "village" else -1.0)
        if style == "village" and rng.random() < 0.08:
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


def polygon_mask(canvas: Canvas, polygons: list[list[tuple[float, float]]], scale: int = 3):
    """Supersampled mask of polygons (points in image heights) over their bounding box only.

    Returns (top, left, mask (h, w) in 0..1) or None when the shapes miss the picture.
    """
    pts = np.array([p for poly in polygons for p in poly], np.float64) * canvas.height
    x0, y0 = max(0, int(math.floor(pts[:, 0].min())) - 1), max(0, int(math.floor(pts[:, 1].min())) - 1)
    x1 = min(canvas.width, int(math.ceil(pts[:, 0].max())) + 2)
    y1 = min(canvas.height, int(math.ceil(pts[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    image = Image.new("L", ((x1 - x0) * scale, (y1 - y0) * scale), 0)
    draw = ImageDraw.Draw(image)
    for poly in polygons:
        draw.polygon([((x * canvas.height - x0) * scale, (y * canvas.height - y0) * scale) for x, y in poly], fill=255)
    mask = image.resize((x1 - x0, y1 - y0), Image.Resampling.BOX)
    return y0, x0, np.asarray(mask, np.float32) * np.float32(1.0 / 255.0)


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


# --------------------------------------------------------------------------- rooms

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


# --------------------------------------------------------------------------- space

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
