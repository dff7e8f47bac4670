"""The player's figure: a standing person in the foreground, in the colours and shape of the look.

`draw_player` paints the `PlayerLook` that `prompt_words.player_clause` read from the prompt's
"featuring NAME, LOOK": garment (cloak, coat, jacket, dress, armour, suit), headwear (hood, hat,
cap, helmet) or hair, legs, an accent (scarf, collar, belt) and a thing held (staff, lantern,
sword) or a pack, each in the look's colour; parts the look does not colour get neutral, muted
tones (the face stays a neutral shade unless the look names the skin). Build words scale it
(tall / short, slight / broad). The figure is lit by the hour's light, a little brighter on the
side the light comes from, and hazed like the nearest layer; a lantern glows. Its place is
seeded, on the left or right third, on the side farther from what the composition marked as its
focal points (`Context.focus`: the sun or moon, a lighthouse, a tower, a boat).

Only for prompts that feature the player: a prompt without "featuring" never reaches here, so
its pixels are what they were. No randomness but the context's seeds; no state between calls.
"""

from __future__ import annotations

import numpy as np

from engine.painters.procedural.canvas import mix, polygon_mask, rgb
from engine.painters.procedural.context import Context
from engine.painters.procedural.prompt_words import PlayerLook

PAINT = {name: rgb(hex_code) for name, hex_code in {
    "red": "#b8262a", "crimson": "#a01830", "scarlet": "#cc2a1e", "maroon": "#6b1f2a",
    "burgundy": "#6d1a2b", "rust": "#a04a22", "russet": "#8c4424", "orange": "#e0761c",
    "amber": "#d98c1a", "ochre": "#c0862a", "yellow": "#e6bc22", "mustard": "#c9a227",
    "gold": "#d4a531", "golden": "#d4a531", "green": "#3a8a3a", "olive": "#6b6b2e",
    "emerald": "#1f8a5a", "teal": "#1f7a78", "blue": "#2a56c0", "navy": "#1d2a62",
    "indigo": "#3a2f7a", "purple": "#6a3a8f", "violet": "#7a4fb0", "pink": "#d87fa0",
    "brown": "#6b4428", "chestnut": "#7a3f22", "tan": "#b08a5a", "beige": "#c8b89a",
    "cream": "#e6dcc0", "white": "#e8e8e4", "grey": "#80838a", "gray": "#80838a",
    "slate": "#5a6470", "silver": "#c0c6d0", "black": "#1c1c20", "charcoal": "#333438",
    "blonde": "#dcc07c", "blond": "#dcc07c", "auburn": "#8a3a22", "ginger": "#c2622a",
    "copper": "#b8662e", "sandy": "#c4a070", "dark": "#2a2628", "pale": "#d8d4cc",
    "fair": "#dcc890", "tanned": "#b08060"}.items()}
SKIN = {"dark": rgb("#5a3a28"), "brown": rgb("#7a5034"), "black": rgb("#4a3024"), "pale": rgb("#e8d2c0"),
        "fair": rgb("#e6ccb4"), "white": rgb("#e6ccb4"), "olive": rgb("#a88a60"), "tan": rgb("#b58560"),
        "tanned": rgb("#b58560"), "golden": rgb("#c09060")}
NEUTRAL = {  # parts the look leaves uncoloured: muted, so the look's own colours lead
    "garment": rgb("#5c5a58"), "legs": rgb("#3a3836"), "hair": rgb("#3a2e26"), "skin": rgb("#9a8a7c"),
    "metal": rgb("#9aa0a8"), "wood": rgb("#5a4030"), "boots": rgb("#262220")}
GARMENTS = ("cloak", "dress", "coat", "armour", "suit", "jacket")  # the first one named is drawn
HEIGHT = 0.34      # a figure's height in image heights, before build
LANTERN_LIGHT = rgb("#ffc870")


def _paint(look: PlayerLook, part: str, default: np.ndarray) -> np.ndarray:
    word = look.colours.get(part)
    if part == "skin":
        return SKIN.get(word, PAINT.get(word, default)) if word else default
    return PAINT.get(word, default) if word else default


def place(ctx: Context, look: PlayerLook) -> tuple[float, float, float, float]:
    """Where the figure stands and its size: (x, foot y, height, width factor), seeded, on the
    third farther from the composition's focal points."""
    aspect, rng = ctx.canvas.aspect, ctx.seeds("player")
    focus = ctx.focus or [aspect / 2.0]
    left, right = rng.uniform(0.1, 0.3) * aspect, rng.uniform(0.7, 0.9) * aspect
    gap = lambda x: min(abs(x - f) for f in focus)  # noqa: E731
    x = left if (gap(left), rng.random()) > (gap(right), 0.5) else right
    height = HEIGHT * (1.13 if "tall" in look.builds else 0.84 if "short" in look.builds else 1.0)
    width = 1.22 if "broad" in look.builds else 0.84 if "slight" in look.builds else 1.0
    return x, 0.955 + rng.uniform(-0.012, 0.012), height, width


def _shapes(look: PlayerLook, x: float, foot: float, h: float, w: float):
    """The figure's polygons by part: [(part, colour, polygons)], back to front."""
    garment = next((g for g in GARMENTS if g in look.parts), "jacket")
    body = _paint(look, garment, NEUTRAL["garment"])
    if garment == "armour" and "armour" not in look.colours:
        body = NEUTRAL["metal"]
    legs = _paint(look, "legs", body if garment == "suit" else NEUTRAL["legs"])
    skin = _paint(look, "skin", NEUTRAL["skin"])
    hair = _paint(look, "hair", NEUTRAL["hair"])
    top = foot - h
    head_r = 0.062 * h
    head_y = top + head_r * 1.05
    neck = head_y + head_r * 0.95
    shoulder_y = top + 0.19 * h
    sw = 0.125 * h * w * (1.25 if garment == "armour" else 1.0)
    hip_y = foot - 0.47 * h
    parts: list[tuple[str, np.ndarray, list]] = []
    if "pack" in look.parts:
        parts.append(("pack", _paint(look, "pack", NEUTRAL["wood"]),
                      [[(x - sw * 1.05, shoulder_y + 0.02 * h), (x + sw * 0.2, shoulder_y + 0.02 * h),
                        (x + sw * 0.2, shoulder_y + 0.3 * h), (x - sw * 1.1, shoulder_y + 0.3 * h)]]))
    hand_x, hand_y = x + sw * 1.25, foot - 0.5 * h
    if "staff" in look.parts:
        t = 0.012 * h
        parts.append(("staff", _paint(look, "staff", NEUTRAL["wood"]),
                      [[(hand_x - t, top - 0.04 * h), (hand_x + t, top - 0.04 * h), (hand_x + t, foot),
                        (hand_x - t, foot)]]))
    # legs and boots (under a long garment only the feet show)
    stride, leg_w = 0.045 * h * w, 0.05 * h * w
    leg_top = hip_y - 0.02 * h
    parts.append(("legs", legs, [[(x - stride - leg_w, leg_top), (x - stride + leg_w * 0.7, leg_top),
                                  (x - stride + leg_w * 0.5, foot - 0.03 * h), (x - stride - leg_w * 0.9, foot - 0.03 * h)],
                                 [(x + stride - leg_w * 0.7, leg_top), (x + stride + leg_w, leg_top),
                                  (x + stride + leg_w * 0.9, foot - 0.03 * h), (x + stride - leg_w * 0.5, foot - 0.03 * h)]]))
    parts.append(("boots", NEUTRAL["boots"],
                  [[(x - stride - leg_w * 1.0, foot - 0.04 * h), (x - stride + leg_w * 0.6, foot - 0.04 * h),
                    (x - stride + leg_w * 0.9, foot), (x - stride - leg_w * 1.1, foot)],
                   [(x + stride - leg_w * 0.6, foot - 0.04 * h), (x + stride + leg_w * 1.0, foot - 0.04 * h),
                    (x + stride + leg_w * 1.3, foot), (x + stride - leg_w * 0.7, foot)]]))
    # arms (hidden under a cloak), then the garment
    arm = 0.04 * h * w
    if garment != "cloak":
        parts.append(("arms", body, [[(x - sw, shoulder_y), (x - sw + arm * 1.6, shoulder_y + 0.03 * h),
                                      (x - sw * 1.05, hand_y), (x - sw * 1.05 - arm * 1.5, hand_y - 0.01 * h)],
                                     [(x + sw - arm * 1.6, shoulder_y + 0.03 * h), (x + sw, shoulder_y),
                                      (hand_x + arm * 0.6, hand_y), (hand_x - arm, hand_y + 0.01 * h)]]))
        parts.append(("hands", skin, [[(x - sw * 1.05 - arm * 1.4, hand_y - 0.01 * h), (x - sw * 1.05 + arm * 0.2, hand_y),
                                       (x - sw * 1.02, hand_y + 0.045 * h), (x - sw * 1.1 - arm, hand_y + 0.04 * h)],
                                      [(hand_x - arm, hand_y), (hand_x + arm * 0.8, hand_y), (hand_x + arm * 0.6, hand_y + 0.045 * h),
                                       (hand_x - arm * 0.9, hand_y + 0.04 * h)]]))
    hem = {"cloak": foot - 0.035 * h, "dress": foot - 0.05 * h, "coat": foot - 0.26 * h,
           "armour": hip_y + 0.02 * h, "suit": hip_y + 0.01 * h, "jacket": hip_y + 0.01 * h}[garment]
    flare = {"cloak": 1.55, "dress": 1.5, "coat": 1.2, "armour": 0.85, "suit": 0.8, "jacket": 0.85}[garment]
    waist_y = shoulder_y + 0.2 * h
    torso = [(x - sw * 0.45, neck - 0.005 * h), (x + sw * 0.45, neck - 0.005 * h), (x + sw, shoulder_y + 0.02 * h),
             (x + sw * 0.82, waist_y), (x + sw * flare, hem), (x - sw * flare, hem), (x - sw * 0.82, waist_y),
             (x - sw, shoulder_y + 0.02 * h)]
    if garment == "cloak":
        torso[2:4] = [(x + sw * 1.12, shoulder_y + 0.05 * h), (x + sw * 1.2, waist_y)]
        torso[6:8] = [(x - sw * 1.2, waist_y), (x - sw * 1.12, shoulder_y + 0.05 * h)]
    parts.append(("garment", body, [torso]))
    if "accent" in look.parts:
        accent = _paint(look, "accent", mix(body, NEUTRAL["garment"], 0.5))
        parts.append(("accent", accent, [[(x - sw * 0.55, neck - 0.01 * h), (x + sw * 0.55, neck - 0.01 * h),
                                          (x + sw * 0.6, neck + 0.04 * h), (x - sw * 0.6, neck + 0.04 * h)]]))
    # head: neck, face, then hair or headwear
    parts.append(("face", skin, [_ellipse(x, head_y, head_r * 0.86, head_r, 14),
                                 [(x - head_r * 0.35, head_y + head_r * 0.7), (x + head_r * 0.35, head_y + head_r * 0.7),
                                  (x + head_r * 0.35, neck + 0.01 * h), (x - head_r * 0.35, neck + 0.01 * h)]]))
    if "bald" not in look.parts and "hood" not in look.parts and "helmet" not in look.parts:
        long_hair = any(p in look.text.lower() for p in ("long", "braid", "plait", "ponytail", "mane", "flowing"))
        back = head_y + head_r * (2.2 if long_hair else 0.55)
        parts.append(("hair", hair, [[(x - head_r * 0.98, head_y - head_r * 0.05), (x - head_r * 0.75, head_y - head_r * 0.85),
                                      (x, head_y - head_r * 1.12), (x + head_r * 0.75, head_y - head_r * 0.85),
                                      (x + head_r * 0.98, head_y - head_r * 0.05), (x + head_r * 0.6, head_y - head_r * 0.5),
                                      (x - head_r * 0.55, head_y - head_r * 0.45), (x - head_r * 0.7, back),
                                      (x - head_r * 1.0, back)]]))
    if "hood" in look.parts:
        hood = _paint(look, "hood", body)
        parts.append(("hood", hood, [[(x - head_r * 1.25, neck + 0.01 * h), (x - head_r * 1.2, head_y - head_r * 0.6),
                                      (x - head_r * 0.3, head_y - head_r * 1.5), (x + head_r * 0.2, head_y - head_r * 1.35),
                                      (x + head_r * 1.2, head_y - head_r * 0.5), (x + head_r * 1.25, neck + 0.01 * h),
                                      (x + head_r * 0.8, neck), (x + head_r * 0.8, head_y - head_r * 0.55),
                                      (x - head_r * 0.8, head_y - head_r * 0.55), (x - head_r * 0.8, neck)]]))
    elif "helmet" in look.parts:
        parts.append(("helmet", _paint(look, "helmet", NEUTRAL["metal"]),
                      [_ellipse(x, head_y - head_r * 0.15, head_r * 1.02, head_r * 0.95, 14, upper=True)]))
    elif "hat" in look.parts:
        hat = _paint(look, "hat", NEUTRAL["legs"])
        parts.append(("hat", hat, [[(x - head_r * 1.9, head_y - head_r * 0.55), (x + head_r * 1.9, head_y - head_r * 0.55),
                                    (x + head_r * 1.7, head_y - head_r * 0.8), (x - head_r * 1.7, head_y - head_r * 0.8)],
                                   [(x - head_r * 0.85, head_y - head_r * 0.7), (x + head_r * 0.85, head_y - head_r * 0.7),
                                    (x + head_r * 0.7, head_y - head_r * 1.75), (x - head_r * 0.7, head_y - head_r * 1.75)]]))
    elif "cap" in look.parts:
        cap = _paint(look, "cap", NEUTRAL["legs"])
        parts.append(("cap", cap, [_ellipse(x, head_y - head_r * 0.3, head_r * 1.0, head_r * 1.0, 14, upper=True)]))
    if "sword" in look.parts:
        parts.append(("sword", _paint(look, "sword", NEUTRAL["metal"]),
                      [[(x - sw * 0.9, hip_y), (x - sw * 0.8, hip_y - 0.01 * h), (x - sw * 2.0, foot - 0.1 * h),
                        (x - sw * 2.05, foot - 0.09 * h)]]))
    return parts


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int, upper: bool = False) -> list[tuple[float, float]]:
    """An ellipse's outline as n points; upper: only the top half (a cap, a helmet)."""
    angles = np.linspace(np.pi, 2 * np.pi, n) if upper else np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return [(cx + rx * float(np.cos(a)), cy + ry * float(np.sin(a))) for a in angles]


def draw_player(ctx: Context, look: PlayerLook, mist: float = 0.0) -> tuple[float, float, float]:
    """Paint the player's figure over the finished composition; returns (x, foot y, height)."""
    canvas, light = ctx.canvas, ctx.light
    x, foot, h, w = place(ctx, look)
    sun_side = 1.0 if ctx.light_x is None or ctx.light_x >= x else -1.0
    ambient = np.maximum(light.ambient, np.float32(0.3) * float(light.ambient.max()) + np.float32(0.12))
    haze = min(0.5, ctx.haze(0.08, mist) + (0.15 if "fog" in ctx.spec.weather else 0.0))
    shadow = polygon_mask(canvas, [_ellipse(x + 0.03 * h * sun_side * -1, foot, 0.2 * h * w, 0.025 * h, 16)])
    if shadow is not None:
        top, left, mask = shadow
        canvas.blend(np.zeros(3, np.float32), mask * np.float32(0.35), top, left)
    for _, albedo, polygons in _shapes(look, x, foot, h, w):
        found = polygon_mask(canvas, polygons)
        if found is None:
            continue
        top, left, mask = found
        cols = canvas.xs[left: left + mask.shape[1]]
        side = np.clip((cols - x) * np.float32(sun_side / (0.15 * h)), -1.0, 1.0)
        shade = (0.86 + 0.2 * side).astype(np.float32)   # lit on the light's side
        colour = mix(albedo * ambient, light.haze, haze).astype(np.float32)
        field = colour[:, None, None] * shade[None, None, :]
        canvas.blend(np.broadcast_to(field, (3, mask.shape[0], mask.shape[1])), mask, top, left)
    if "lantern" in look.parts:
        lx, ly, r = x + 0.125 * h * w * 1.25 + 0.005, foot - 0.44 * h, 0.022 * h
        body = polygon_mask(canvas, [[(lx - r, ly - r), (lx + r, ly - r), (lx + r * 0.8, ly + r * 1.3),
                                      (lx - r * 0.8, ly + r * 1.3)]])
        if body is not None:
            top, left, mask = body
            canvas.blend(LANTERN_LIGHT, mask, top, left)
        canvas.glow(lx, ly, 0.05, LANTERN_LIGHT, 0.6)
    return x, foot, h
