"""What a film's frames show: the camera's slow move over a picture, the cards, the subtitles.

The camera (a Ken Burns move) looks at a scene's picture made OVERSCAN times the frame size.
Its move comes from the scene's mood, its direction from the picture's composition (where the
detail is): tense, dark and eerie scenes push in toward the detail; calm and mysterious ones pan
toward it (or tilt, where the picture's weight is above or below rather than to a side); bright
ones tilt toward it; melancholy and triumphant ones pull back from it, to reveal the place. The
move eases in and out and spans the whole shot, however long: a slow drift, never a zoom.

Speed matters more than sub-pixel motion here: the view is snapped to whole pixels of the
picture, so a slow move changes the frame only every few frames, and an unchanged frame is
neither drawn again nor costly to encode. A pan or a tilt runs at the picture's own scale, so
its frames are plain crops (no resampling at all).

Cards are the picture blurred and darkened (or near black) under centred type (the title card
also shows the player's portrait, when the story has one, in a framed oval beside the type);
subtitles are
white DejaVu Sans with a dark outline on a translucent band. This module draws (PIL, numpy);
it never reads a story, writes a file or talks to the encoder.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from engine.paths import ASSETS

OVERSCAN = 1.12                 # pictures are made this much larger than the frame
FONTS = ASSETS / "fonts"
CARD_DARKEN = 0.35              # a card's picture keeps this share of its brightness
CARD_BLUR = 1 / 80              # its blur radius, of the frame height
BACKDROP = (12, 12, 18)         # a card without a picture
SUBTITLE_SIZE = 0.046           # subtitle type, of the frame height (33 px at 720p)
SUBTITLE_MARGIN = 0.06          # from the bottom, of the frame height
SUBTITLE_BAND = (0, 0, 0, 110)  # the translucent band behind the text
TEXT_WHITE = (255, 255, 255)
TEXT_SOFT = (225, 220, 205)
PORTRAIT_HEIGHT = 0.3           # the title card's portrait oval, of the frame height
PORTRAIT_ASPECT = 0.8           # its width, of its height
PORTRAIT_GAP = 0.035            # between the oval and the type, of the frame height
MOOD_MOVES = {
    "tense": "push", "dark": "push", "eerie": "push",
    "calm": "pan", "mysterious": "pan",
    "bright": "tilt",
    "melancholy": "pull", "triumphant": "pull",
}

Box = tuple[int, int, int, int]   # left, top, right, bottom, in picture pixels


@dataclass(frozen=True)
class Move:
    """A camera move over a picture: push in, pull back, pan or tilt, toward a focus."""

    kind: str                       # "push", "pull", "pan" or "tilt"
    focus: tuple[float, float]      # where the detail is (0..1 across, 0..1 down)
    forward: bool = True            # pan: left to right; tilt: top to bottom


def picture_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size a shot's picture is made at, for a frame of `size`: room for the camera."""
    return round(size[0] * OVERSCAN), round(size[1] * OVERSCAN)


def interest(picture: Image.Image) -> tuple[float, float]:
    """Where the picture's detail lies (the centroid of its local contrast), 0..1 each way."""
    small = np.asarray(picture.convert("L").resize((64, 36), Image.Resampling.BILINEAR),
                       dtype=np.float32)
    detail = np.ones_like(small)                # a flat picture: the centre
    detail[:, :-1] += np.abs(np.diff(small, axis=1))
    detail[:-1, :] += np.abs(np.diff(small, axis=0))
    total = float(detail.sum())
    cx = float((detail.sum(axis=0) * (np.arange(64) + 0.5)).sum()) / total / 64
    cy = float((detail.sum(axis=1) * (np.arange(36) + 0.5)).sum()) / total / 36
    return cx, cy


def choose_move(mood: str, picture: Image.Image) -> Move:
    """The camera move for a scene: its kind from the mood, its direction from the picture.

    A pan over a picture whose detail is off-centre up or down rather than sideways becomes
    a tilt, and a tilt whose detail is to a side becomes a pan: the camera always travels
    toward what there is to see.
    """
    kind = MOOD_MOVES.get(mood, "pan")
    cx, cy = interest(picture)
    sideways, upright = abs(cx - 0.5), abs(cy - 0.5)
    if kind == "pan" and upright > 2 * sideways + 0.02:
        kind = "tilt"
    elif kind == "tilt" and sideways > 2 * upright + 0.02:
        kind = "pan"
    forward = cx >= 0.5 if kind == "pan" else cy >= 0.5
    return Move(kind, (cx, cy), forward)


def _ease(progress: float) -> float:
    progress = min(1.0, max(0.0, progress))
    return progress * progress * (3.0 - 2.0 * progress)


def _place(centre: float, length: int, room: int) -> int:
    """The start of a span `length` long, centred near `centre`, kept inside 0..room."""
    return min(max(0, round(centre - length / 2)), room - length)


def view_box(move: Move, progress: float, picture: tuple[int, int],
             frame: tuple[int, int]) -> Box:
    """The part of the picture the camera shows at `progress` (0..1) through its shot, in whole
    picture pixels: the frame's aspect, from the whole picture (widest) to the frame's own
    size (closest: no enlargement)."""
    width, height = picture
    p = _ease(progress)
    fx, fy = move.focus[0] * width, move.focus[1] * height
    if move.kind in ("push", "pull"):
        closeness = p if move.kind == "push" else 1.0 - p
        w = round(width + (frame[0] - width) * closeness)
        h = min(height, round(w * frame[1] / frame[0]))
        if width != frame[0]:       # the centre follows the whole-pixel width: one step, not two
            closeness = (width - w) / (width - frame[0])
        cx = width / 2 + (fx - width / 2) * closeness
        cy = height / 2 + (fy - height / 2) * closeness
        left, top = _place(cx, w, width), _place(cy, h, height)
    elif move.kind == "tilt":
        w, h = min(width, frame[0]), min(height, frame[1])
        left = _place(fx, w, width)
        travel = p if move.forward else 1.0 - p
        top = round((height - h) * travel)
    else:  # pan
        w, h = min(width, frame[0]), min(height, frame[1])
        top = _place(fy, h, height)
        travel = p if move.forward else 1.0 - p
        left = round((width - w) * travel)
    return left, top, left + w, top + h


def frame_view(picture: Image.Image, box: Box, frame: tuple[int, int]) -> Image.Image:
    """The box of the picture as a frame: a crop where it is the frame's size, else scaled."""
    if (box[2] - box[0], box[3] - box[1]) == tuple(frame):
        return picture.crop(box)
    return picture.resize(frame, Image.Resampling.BILINEAR, box=box)


class Camera:
    """One shot's camera over its picture: the frame at each step of the shot, the last view
    kept so that a frame that does not move is not drawn twice."""

    def __init__(self, picture: Image.Image, move: Move, frames: int, frame: tuple[int, int]):
        self.picture, self.move, self.frames, self.frame = picture, move, frames, tuple(frame)
        self._box: Box | None = None
        self._view: Image.Image | None = None

    def box(self, step: int) -> Box:
        return view_box(self.move, step / max(1, self.frames - 1), self.picture.size, self.frame)

    def view(self, step: int) -> Image.Image:
        box = self.box(step)
        if box != self._box:
            self._box, self._view = box, frame_view(self.picture, box, self.frame)
        return self._view


@lru_cache(maxsize=16)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """A shipped font (assets/fonts) at a pixel size."""
    return ImageFont.truetype(str(FONTS / name), max(6, size))


def _fitted(text: str, name: str, size: int, width: int, smallest: int):
    """The font at `size` or smaller (not below `smallest`) that fits `text` in `width`, and
    the text's lines (wrapped when even the smallest size is too wide)."""
    while size > smallest and font(name, size).getlength(text) > width:
        size = max(smallest, int(size * 0.9))
    face = font(name, size)
    if face.getlength(text) <= width:
        return face, [text]
    per_line = max(8, int(len(text) * width / max(1.0, face.getlength(text))))
    return face, textwrap.wrap(text, per_line) or [text]


def card_background(picture: Image.Image | None, size: tuple[int, int]) -> Image.Image:
    """A card's ground: the picture fitted to the frame, blurred and darkened; else near black."""
    if picture is None:
        return Image.new("RGB", size, BACKDROP)
    ground = picture.convert("RGB")
    if ground.size != tuple(size):
        ground = ground.resize(size, Image.Resampling.BILINEAR)
    ground = ground.filter(ImageFilter.GaussianBlur(max(1.0, size[1] * CARD_BLUR)))
    return Image.eval(ground, lambda value: int(value * CARD_DARKEN))


def portrait_oval(portrait: Image.Image, height: int) -> Image.Image:
    """The player's portrait cropped to a framed oval `height` pixels tall (RGBA: outside the
    oval is transparent), for the title card."""
    height = max(8, int(height))
    width = max(6, round(height * PORTRAIT_ASPECT))
    face = ImageOps.fit(portrait.convert("RGB"), (width, height), Image.Resampling.LANCZOS,
                        centering=(0.5, 0.4))          # faces sit above the middle
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, width - 1, height - 1), fill=255)
    oval = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    oval.paste(face, (0, 0), mask)
    ImageDraw.Draw(oval).ellipse((0, 0, width - 1, height - 1), outline=TEXT_SOFT + (255,),
                                 width=max(1, height // 40))
    return oval


def card(picture: Image.Image | None, size: tuple[int, int], heading: str,
         line: str = "", portrait: Image.Image | None = None) -> Image.Image:
    """A title or ending card: `heading` large in serif, `line` below it in italics; with a
    `portrait` (the player's), a framed oval of it beside the type, the two centred together."""
    image = card_background(picture, size)
    draw = ImageDraw.Draw(image)
    width, height = size
    oval = portrait_oval(portrait, height * PORTRAIT_HEIGHT) if portrait is not None else None
    beside = oval.width + round(height * PORTRAIT_GAP) if oval is not None else 0
    room = int(width * 0.88) - beside
    big, lines = _fitted(heading, "DejaVuSerif-Bold.ttf", round(height * 0.085),
                         room, round(height * 0.04))
    rows = [(text, big, TEXT_WHITE) for text in lines]
    if line:
        small, extra = _fitted(line, "DejaVuSerif-Italic.ttf", round(height * 0.042),
                               room, round(height * 0.025))
        rows += [(text, small, TEXT_SOFT) for text in extra]
    gaps = [round(face.size * 1.35) for _, face, _ in rows]
    block = max(face.getlength(text) for text, face, _ in rows) if rows else 0.0
    left = (width - beside - block) / 2          # where the oval and the type begin, together
    centre = left + beside + block / 2 if oval is not None else width / 2
    if oval is not None:
        image.paste(oval, (round(left), round((height - oval.height) / 2)), oval)
    y = (height - sum(gaps)) / 2
    for (text, face, colour), gap in zip(rows, gaps):
        x = centre - face.getlength(text) / 2
        draw.text((x, y), text, font=face, fill=colour,
                  stroke_width=max(1, face.size // 24), stroke_fill=(0, 0, 0))
        y += gap
    return image


class Subtitler:
    """Draws cues over frames: each cue's band is drawn once and laid over every frame it
    shows on."""

    def __init__(self, size: tuple[int, int]):
        self.size = tuple(size)
        self.face = font("DejaVuSans.ttf", round(size[1] * SUBTITLE_SIZE))
        self._text: str | None = None
        self._band: tuple[Image.Image, tuple[int, int]] | None = None

    def band(self, text: str) -> tuple[Image.Image, tuple[int, int]]:
        """The cue's band (RGBA) and where it goes on the frame."""
        if text != self._text:
            self._text, self._band = text, self._draw(text)
        return self._band

    def _draw(self, text: str) -> tuple[Image.Image, tuple[int, int]]:
        width, height = self.size
        face, lines = self.face, text.split("\n")
        stroke = max(1, face.size // 14)
        line_height = round(face.size * 1.25)
        text_width = max(face.getlength(line) for line in lines)
        pad_x, pad_y = round(face.size * 0.5), round(face.size * 0.25)
        band_w = min(width, int(text_width) + 2 * pad_x)
        band_h = line_height * len(lines) + 2 * pad_y
        band = Image.new("RGBA", (band_w, band_h), SUBTITLE_BAND)
        draw = ImageDraw.Draw(band)
        for row, line in enumerate(lines):
            x = (band_w - face.getlength(line)) / 2
            draw.text((x, pad_y + row * line_height), line, font=face, fill=TEXT_WHITE,
                      stroke_width=stroke, stroke_fill=(0, 0, 0))
        place = ((width - band_w) // 2, height - round(height * SUBTITLE_MARGIN) - band_h)
        return band, place

    def over(self, frame: Image.Image, text: str) -> Image.Image:
        """A copy of `frame` with the cue laid over it."""
        band, place = self.band(text)
        out = frame.copy()
        out.paste(band, place, band)
        return out


def blend(a: Image.Image, b: Image.Image, amount: float) -> Image.Image:
    """a dissolving into b: amount 0 is a, 1 is b."""
    return Image.blend(a, b, min(1.0, max(0.0, amount)))


def black(size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, (0, 0, 0))


__all__ = ["Camera", "Move", "OVERSCAN", "Subtitler", "black", "blend", "card", "portrait_oval",
           "card_background", "choose_move", "frame_view", "interest", "picture_size",
           "view_box"]
