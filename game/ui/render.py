"""Drawing helpers that keep the frame loop cheap: PIL->Surface, cached text, panels, crossfade.

Rules this module enforces for the rest of the game:
- A PIL image is scaled to the window *off* the main thread (PIL releases the GIL) and turned
  into a Surface *on* the main thread, once per image and window size (`SceneImage`).
- Rendered text and translucent panels are cached by their content, so a frame that changes
  nothing renders no glyphs and allocates no surfaces.
No file I/O, no engine calls. Needs an initialised display for convert().
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

import pygame
from PIL import Image

from engine.library import fill_picture as cover   # scale and centre-crop to fill a size

FADE_SECONDS = 0.6      # crossfade between scene images
SURFACE_MEMORY = 6      # window-sized image surfaces kept (about 3.7 MB each at 720p)
TEXT_MEMORY = 1500      # rendered text surfaces kept


# -- images ---------------------------------------------------------------------------------
Pixels = tuple[bytes, tuple[int, int]]   # raw RGBX bytes and size: a picture ready for pygame


def to_pixels(image: Image.Image) -> Pixels:
    """A PIL image as raw 32-bit RGBX bytes (run on a worker: this is the slow half)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image.tobytes("raw", "RGBX"), image.size


def pixels_to_surface(pixels: Pixels) -> pygame.Surface:
    """Raw RGBX bytes as a display-format Surface (about 1 ms at 720p; main thread only)."""
    data, size = pixels
    surface = pygame.image.frombuffer(data, size, "RGBX")
    return surface.convert() if pygame.display.get_surface() is not None else surface.copy()


def pil_to_surface(image: Image.Image) -> pygame.Surface:
    """A PIL image as a display-format Surface (main thread; prefer to_pixels on a worker)."""
    return pixels_to_surface(to_pixels(image))


def fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale an image to fit inside `size`, keeping its aspect (thumbnails, covers)."""
    scale = min(size[0] / image.width, size[1] / image.height)
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    return rgb.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)


class SceneImage:
    """The full-window scene picture, with a crossfade when a new one arrives.

    `show(key, pil)` asks for an image; scaling runs through `submit(work, on_done)` (a
    background job) and the Surface is made when it comes back. Until then the previous picture
    stays up. Window-sized surfaces are cached per (key, size), so going back is instant.
    """

    def __init__(self, submit: Callable[[Callable[[], Any], Callable[[Any], None]], None]):
        self.submit = submit
        self.size = (1, 1)
        self.key = ""                        # the key on screen (or fading in)
        self.wanted = ""                     # the key asked for last
        self.current: pygame.Surface | None = None
        self.previous: pygame.Surface | None = None
        self.fade = 1.0                      # 0..1 progress of the crossfade
        self._sources: OrderedDict[str, Image.Image] = OrderedDict()
        self._surfaces: OrderedDict[tuple[str, tuple[int, int]], pygame.Surface] = OrderedDict()
        self._pending: set[tuple[str, tuple[int, int]]] = set()

    @property
    def fading(self) -> bool:
        return self.fade < 1.0

    def resize(self, size: tuple[int, int]) -> None:
        """New window size: rescale the shown picture once (in the background)."""
        if size == self.size:
            return
        self.size = size
        self.previous = None
        self.fade = 1.0
        if self.key and self.key in self._sources:
            self._request(self.key, self._sources[self.key], fade=False)
        else:
            self.current = None

    def show(self, key: str, image: Image.Image | None) -> None:
        """Ask for the picture with this key; no-op if it is already shown or on its way."""
        if not key or image is None or key == self.wanted:
            return
        self.wanted = key
        self._sources[key] = image
        self._sources.move_to_end(key)
        while len(self._sources) > SURFACE_MEMORY:
            self._sources.popitem(last=False)
        self._request(key, image, fade=True)

    def clear(self) -> None:
        """Drop the shown picture (a different story was loaded)."""
        self.key = self.wanted = ""
        self.current = self.previous = None
        self.fade = 1.0

    def _request(self, key: str, image: Image.Image, fade: bool) -> None:
        slot = (key, self.size)
        cached = self._surfaces.get(slot)
        if cached is not None:
            self._surfaces.move_to_end(slot)
            self._arrive(key, cached, fade)
            return
        if slot in self._pending:
            return
        self._pending.add(slot)
        size = self.size

        def work() -> Pixels:
            return to_pixels(cover(image, size))

        def done(pixels: Pixels) -> None:
            self._pending.discard(slot)
            surface = pixels_to_surface(pixels)
            self._surfaces[slot] = surface
            while len(self._surfaces) > SURFACE_MEMORY:
                self._surfaces.popitem(last=False)
            if key == self.wanted and size == self.size:
                self._arrive(key, surface, fade)

        self.submit(work, done)

    def _arrive(self, key: str, surface: pygame.Surface, fade: bool) -> None:
        if fade and self.current is not None and key != self.key:
            self.previous = self.current
            self.fade = 0.0
        else:
            self.previous = None
            self.fade = 1.0
        self.current = surface
        self.key = key

    def update(self, dt: float) -> None:
        if self.fade < 1.0:
            self.fade = min(1.0, self.fade + dt / FADE_SECONDS)
            if self.fade >= 1.0:
                self.previous = None

    @property
    def alpha(self) -> int:
        """Opacity of the new picture over the previous one during a crossfade (eased)."""
        return 255 if self.previous is None else round(255 * _ease(self.fade))

    def draw(self, target: pygame.Surface, fade: bool = True) -> bool:
        """Blit the picture (crossfading unless `fade` is off); False when there is none yet."""
        if self.current is None:
            return False
        if fade and self.previous is not None and self.fade < 1.0:
            crossfade(target, self.previous, self.current, self.alpha)
        else:
            target.blit(self.current, (0, 0))
        return True


def crossfade(target: pygame.Surface, old: pygame.Surface, new: pygame.Surface, alpha: int) -> None:
    """Draw `new` over `old` at the given opacity (two opaque-format blits, about 1 ms at 720p)."""
    target.blit(old, (0, 0))
    new.set_alpha(alpha)
    target.blit(new, (0, 0))
    new.set_alpha(None)


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


# -- text -----------------------------------------------------------------------------------
class TextCache:
    """Rendered text surfaces by (font, text, colour); a frame that changes nothing renders
    nothing. Fonts are kept alive by the Theme, so their id() is a stable key."""

    def __init__(self, limit: int = TEXT_MEMORY, chain=None):
        self.limit = limit
        self.chain = chain            # game.ui.fonts.FontChain: glyphs the fonts lack (CJK, emoji)
        self._surfaces: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._widths: dict[tuple[int, str], int] = {}
        self._fits: dict[tuple, str] = {}

    def render(self, font: pygame.font.Font, text: str, colour) -> pygame.Surface:
        key = (id(font), text, tuple(colour))
        surface = self._surfaces.get(key)
        if surface is None:
            surface = self.render_now(font, text, colour)
            self._surfaces[key] = surface
            if len(self._surfaces) > self.limit:
                self._surfaces.popitem(last=False)
        else:
            self._surfaces.move_to_end(key)
        return surface

    def render_now(self, font: pygame.font.Font, text: str, colour) -> pygame.Surface:
        """Render without caching (a line being typed), through the fallback chain if needed."""
        if self.chain is not None and not text.isascii() and self.chain.missing(font, text):
            return self.chain.render(font, text, colour)
        return font.render(text, True, colour)

    def width(self, font: pygame.font.Font, text: str) -> int:
        key = (id(font), text)
        width = self._widths.get(key)
        if width is None:
            if self.chain is not None and not text.isascii() and self.chain.missing(font, text):
                width = self.chain.width(font, text)
            else:
                width = font.size(text)[0]
            if len(self._widths) > 20000:
                self._widths.clear()
            self._widths[key] = width
        return width

    def fit(self, font: pygame.font.Font, text: str, width: int) -> str:
        """Text cut at a word (or a letter) with an ellipsis to fit `width` (remembered)."""
        key = (id(font), text, width, "fit")
        done = self._fits.get(key)
        if done is None:
            done = text
            if self.width(font, text) > width:
                words = text.split(" ")
                while len(words) > 1 and self.width(font, " ".join(words) + "...") > width:
                    words.pop()
                done = " ".join(words).rstrip(" ,;:.")
                while done and self.width(font, done + "...") > width:
                    done = done[:-1]
                done = done.rstrip() + "..."
            if len(self._fits) > 5000:
                self._fits.clear()
            self._fits[key] = done
        return done

    def wrap(self, font: pygame.font.Font, text: str, width: int) -> list[str]:
        """Lines of at most `width` pixels; paragraphs (blank lines) become an empty line."""
        lines: list[str] = []
        space = self.width(font, " ")
        for index, paragraph in enumerate(text.split("\n")):
            words = paragraph.split()
            if not words:
                if lines and lines[-1] != "":
                    lines.append("")
                continue
            line, line_width = "", 0
            for word in words:
                word_width = self.width(font, word)
                while word_width > width and len(word) > 1:   # a word wider than the box
                    cut = max(1, int(len(word) * width / word_width) - 1)
                    if line:
                        lines.append(line)
                        line, line_width = "", 0
                    lines.append(word[:cut])
                    word = word[cut:]
                    word_width = self.width(font, word)
                if line and line_width + space + word_width > width:
                    lines.append(line)
                    line, line_width = word, word_width
                else:
                    line_width += (space if line else 0) + word_width
                    line = f"{line} {word}" if line else word
            if line:
                lines.append(line)
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    def clear(self) -> None:
        self._surfaces.clear()
        self._widths.clear()
        self._fits.clear()


# -- panels ---------------------------------------------------------------------------------
_PANELS: OrderedDict[tuple, pygame.Surface] = OrderedDict()


def panel(size: tuple[int, int], colour, radius: int = 0, edge=None,
          edge_width: int = 1) -> pygame.Surface:
    """A (cached) translucent rounded rectangle with an optional edge."""
    key = (size, tuple(colour), radius, tuple(edge) if edge else None, edge_width)
    surface = _PANELS.get(key)
    if surface is None:
        surface = pygame.Surface((max(1, size[0]), max(1, size[1])), pygame.SRCALPHA)
        rect = surface.get_rect()
        pygame.draw.rect(surface, colour, rect, border_radius=radius)
        if edge:
            pygame.draw.rect(surface, edge, rect, width=edge_width, border_radius=radius)
        _PANELS[key] = surface
        if len(_PANELS) > 300:
            _PANELS.popitem(last=False)
    else:
        _PANELS.move_to_end(key)
    return surface


def gradient(size: tuple[int, int], top, bottom, horizontal: bool = False) -> pygame.Surface:
    """A (cached) gradient between two RGBA colours, top to bottom (or left to right)."""
    key = ("gradient", size, tuple(top), tuple(bottom), horizontal)
    surface = _PANELS.get(key)
    if surface is None:
        length = max(1, size[0] if horizontal else size[1])
        strip = pygame.Surface((length, 1) if horizontal else (1, length), pygame.SRCALPHA)
        for i in range(length):
            t = i / max(1, length - 1)
            colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
            strip.set_at((i, 0) if horizontal else (0, i), colour)
        surface = pygame.transform.scale(strip, (max(1, size[0]), max(1, size[1])))
        _PANELS[key] = surface
    return surface


def shade(target: pygame.Surface, colour) -> None:
    """Dim the whole target (under an overlay screen)."""
    target.blit(panel(target.get_size(), colour), (0, 0))


def clear_caches() -> None:
    _PANELS.clear()
