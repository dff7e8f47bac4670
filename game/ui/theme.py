"""The look of the game: colours, fonts and the layout scale, for normal and high-contrast play,
and Ctx, what widgets draw with (the theme and the shared text cache).

Everything is measured at a 1280x720 reference and multiplied by `Theme.scale`, so one layout
reads the same from 720p to 4K. Fonts are the DejaVu TTFs shipped in assets/fonts (read into
memory once, so changing size never touches the disk); if they are missing, pygame's bundled
font is used. Characters they lack (CJK, emoji) come from the fallback chain of game/ui/fonts.py:
fonts shipped in assets/fonts/fallback, then the system's when present; none is assumed. Needs pygame.font initialised before `font()`;
importing this module has no side effects.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pygame

from engine.config import ASSETS
from game.ui.fonts import FontChain

if TYPE_CHECKING:  # pragma: no cover
    from game.ui.render import TextCache

FONTS_DIR = ASSETS / "fonts"
REFERENCE = (1280, 720)   # the layout is designed at this size and scaled from it
MIN_PIXELS = 11           # no text is drawn smaller than this, whatever the window
FONT_FILES = {            # role -> file in assets/fonts
    "text": "DejaVuSerif.ttf",         # narration
    "italic": "DejaVuSerif-Italic.ttf",  # choices taken, quotes, hints
    "title": "DejaVuSerif-Bold.ttf",   # scene and screen titles
    "ui": "DejaVuSans.ttf",            # buttons, labels
    "bold": "DejaVuSans-Bold.ttf",     # hotkeys, emphasis
}

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class Palette:
    """Colours for one theme. Alpha values are for panels drawn over the scene image."""

    background: RGB = (12, 14, 22)        # behind everything, and the image placeholder
    panel: RGBA = (8, 10, 18, 200)        # text box and menus over the image
    panel_edge: RGBA = (232, 186, 104, 90)
    text: RGB = (238, 233, 220)           # narration
    dim: RGB = (168, 170, 186)            # secondary text
    accent: RGB = (236, 184, 96)          # highlights, the current path, focus
    accent_text: RGB = (20, 16, 10)       # text on an accent fill
    button: RGBA = (22, 26, 40, 215)
    button_hover: RGBA = (74, 58, 30, 235)
    button_edge: RGBA = (236, 184, 96, 70)
    disabled: RGB = (92, 94, 108)
    error: RGBA = (150, 38, 44, 235)
    notice: RGBA = (34, 84, 64, 235)
    map_node: RGB = (128, 160, 210)
    map_open: RGB = (96, 100, 120)
    shade: RGBA = (0, 0, 0, 150)          # dims the screen under an overlay


NORMAL = Palette()
HIGH_CONTRAST = Palette(
    background=(0, 0, 0),
    panel=(0, 0, 0, 244),
    panel_edge=(255, 255, 255, 255),
    text=(255, 255, 255),
    dim=(235, 235, 235),
    accent=(255, 221, 0),
    accent_text=(0, 0, 0),
    button=(0, 0, 0, 250),
    button_hover=(255, 221, 0, 255),
    button_edge=(255, 255, 255, 255),
    disabled=(150, 150, 150),
    error=(200, 0, 0, 255),
    notice=(0, 110, 40, 255),
    map_node=(120, 200, 255),
    map_open=(200, 200, 200),
    shade=(0, 0, 0, 215),
)


class Theme:
    """Palette, scale and fonts for the current window size and display settings."""

    def __init__(self, size: tuple[int, int], font_size: int = 22, high_contrast: bool = False):
        self._fonts: dict[tuple[str, int], pygame.font.Font] = {}
        self._font_bytes: dict[str, bytes | None] = {}
        self.glyphs = FontChain()   # fallback fonts for characters the role fonts lack
        self.size = size
        self.font_size = font_size
        self.high_contrast = high_contrast
        self.scale = 1.0
        self.resize(size)

    # -- settings ---------------------------------------------------------------------------
    @property
    def palette(self) -> Palette:
        return HIGH_CONTRAST if self.high_contrast else NORMAL

    def resize(self, size: tuple[int, int]) -> None:
        """Recompute the scale: the smaller of the two axis ratios to the 1280x720 reference."""
        self.size = (max(1, size[0]), max(1, size[1]))
        self.scale = max(0.5, min(self.size[0] / REFERENCE[0], self.size[1] / REFERENCE[1]))

    def px(self, value: float) -> int:
        """A length designed at 720p, in pixels of this window (at least 1)."""
        return max(1, round(value * self.scale))

    # -- fonts ------------------------------------------------------------------------------
    def font(self, role: str = "text", points: float | None = None) -> pygame.font.Font:
        """A font for a role at a size relative to the player's chosen text size.

        Args:
            role: one of FONT_FILES ("text", "italic", "title", "ui", "bold").
            points: size at 720p; default the player's narration size. Scaled with the window.
        """
        base = self.font_size if points is None else points
        pixels = max(MIN_PIXELS, round(base * self.scale))
        key = (role, pixels)
        font = self._fonts.get(key)
        if font is None:
            data = self._load_bytes(role)
            font = pygame.font.Font(io.BytesIO(data) if data else None, pixels)
            self._fonts[key] = font
            self.glyphs.register(font, FONT_FILES.get(role, FONT_FILES["ui"]), data, pixels)
        return font

    def ui_font(self, factor: float = 0.82, role: str = "ui") -> pygame.font.Font:
        """Interface text, a little smaller than the narration and tied to it."""
        return self.font(role, max(11.0, self.font_size * factor))

    def _load_bytes(self, role: str) -> bytes | None:
        if role not in self._font_bytes:
            path = FONTS_DIR / FONT_FILES.get(role, FONT_FILES["ui"])
            try:
                self._font_bytes[role] = path.read_bytes()
            except OSError:
                self._font_bytes[role] = None   # pygame's bundled font instead
        return self._font_bytes[role]

    def preload(self) -> None:
        """Read every font file now (at start-up), so the frame loop never reads a file."""
        for role in FONT_FILES:
            self._load_bytes(role)
        self.glyphs.fallbacks   # find the fallback fonts and read which characters they have


@dataclass
class Ctx:
    """What widgets draw with: the theme (palette, fonts, scale) and the text cache."""

    theme: Theme
    text: TextCache


def rect_scaled(theme: Theme, x: float, y: float, w: float, h: float) -> pygame.Rect:
    """A rectangle designed at 720p, scaled to the window."""
    return pygame.Rect(theme.px(x), theme.px(y), theme.px(w), theme.px(h))
