"""The procedural painter's canvas and the helpers every drawing primitive builds on.

Colours (`rgb`, `mix`, `smoothstep`, `c3`), resampling (`upsample`), 1-D and 2-D fractal value
noise, polygon masks, and `Canvas`: a planar float32 RGB picture (3, rows, cols) in 0..1 with a
quarter-size additive light buffer, which fills silhouettes, blends, glows and develops the final
8-bit image. Work is vectorised with numpy over whole rows and columns (never a Python loop per
pixel) and done in row strips where the temporaries would be large; PIL does resizing and thin
shapes. Positions are resolution independent: x and y are measured in image heights (x runs
0..aspect, y runs 0..1 from the top), so one seed gives the same composition at every size of the
same aspect ratio.

The scene primitives (`terrain.py`, `sky.py`, `rooms.py`, `space.py`) draw with these. This module
knows nothing about scenes, prompts or moods; it must not import anything beyond numpy and PIL,
nor keep state between calls.
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


# --------------------------------------------------------------------------- shapes


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
