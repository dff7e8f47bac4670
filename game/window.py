"""The game window: its name, class and icon, its smallest size, and its remembered size.

Desktops group and label windows by their X11 WM_CLASS (Wayland: app id), not by the caption.
pygame sets WM_CLASS to the script's file name when it is imported (so `dreamreel` or `python`);
name_window() makes it "Dreamreel" instead, unless the player set SDL_VIDEO_X11_WMCLASS
themselves. SDL reads it when the window is created, so this runs before pygame.display.init.

The window cannot be made smaller than MIN_WINDOW (SDL's minimum size, which window managers
honour; a smaller size in the config opens at the minimum): every screen is laid out to hold
there at every text size. When the player resizes the window, the new size is written to the user config once it has stood
still for SAVE_AFTER seconds (a drag sends dozens of resize events; none of them writes a file).
game/launch.py opens the window (what `dreamreel play` runs). Nothing happens at import; only
name_window() touches the environment.
"""

from __future__ import annotations

import os
import sys
import warnings

import pygame

APP_NAME = "Dreamreel"
SAVE_AFTER = 1.0                   # seconds a new window size must stand still before it is saved
MIN_SIZE, MAX_SIZE = (320, 240), (7680, 4320)   # what the config accepts (engine.config Display)
MIN_WINDOW = (640, 400)            # the smallest window the game opens or can be dragged to


def name_window() -> None:
    """Give the window the class "Dreamreel" (X11 WM_CLASS, Wayland app id) before it opens.

    pygame's own default (the script's file name) is replaced; a value the player exported
    themselves is kept."""
    pygame_default = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if os.environ.get("SDL_VIDEO_X11_WMCLASS", "") in ("", pygame_default):
        os.environ["SDL_VIDEO_X11_WMCLASS"] = APP_NAME
    os.environ.setdefault("SDL_VIDEO_WAYLAND_WMCLASS", APP_NAME)
    os.environ.setdefault("SDL_APP_NAME", APP_NAME)     # SDL >= 2.0.18: audio and power names


def make_icon() -> pygame.Surface:
    """The window icon, drawn in code: a gold reel on the night blue of the game."""
    icon = pygame.Surface((64, 64), pygame.SRCALPHA)
    pygame.draw.circle(icon, (236, 184, 96), (32, 32), 30)
    pygame.draw.circle(icon, (12, 14, 22), (32, 32), 25)
    for x, y in ((32, 18), (44, 38), (20, 38)):
        pygame.draw.circle(icon, (236, 184, 96), (x, y), 6)
    pygame.draw.circle(icon, (236, 184, 96), (32, 32), 3)
    return icon


def window_size(size: tuple[int, int]) -> tuple[int, int]:
    """A windowed size no smaller than MIN_WINDOW."""
    return max(MIN_WINDOW[0], int(size[0])), max(MIN_WINDOW[1], int(size[1]))


def _window():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pygame.Window.from_display_module()
    except (AttributeError, pygame.error):      # no window yet, or an older pygame
        return None


def enforce_minimum() -> None:
    """Tell SDL (and so the window manager) the window's minimum size."""
    window = _window()
    if window is not None:
        window.minimum_size = MIN_WINDOW


def grow_to_minimum() -> None:
    """Make a window dragged below the minimum (a window manager that ignores SDL's hint) as
    large as the minimum again; its resize event follows."""
    window = _window()
    if window is not None and tuple(window.size) != window_size(window.size):
        window.size = window_size(window.size)


class SizeMemory:
    """Debounces window sizes: note() every resize, due() says when one is ready to be saved.

    Args:
        saved: the size in the config now (a resize back to it saves nothing).
        after: seconds the size must stand still.
    """

    def __init__(self, saved: tuple[int, int], after: float = SAVE_AFTER):
        self.saved = tuple(saved)
        self.after = after
        self.pending: tuple[int, int] | None = None
        self.since = 0.0

    def note(self, size: tuple[int, int], now: float) -> None:
        """The window is now `size` (a windowed size; fullscreen sizes are never noted)."""
        size = (max(MIN_WINDOW[0], min(MAX_SIZE[0], int(size[0]))),
                max(MIN_WINDOW[1], min(MAX_SIZE[1], int(size[1]))))
        if size == self.saved:
            self.pending = None
        elif size != self.pending:
            self.pending, self.since = size, now

    def forget(self) -> None:
        """Drop a size not yet saved (e.g. the window went fullscreen)."""
        self.pending = None

    def due(self, now: float) -> tuple[int, int] | None:
        """The size to save now, once it has stood still long enough (then it counts as saved)."""
        if self.pending is None or now - self.since < self.after:
            return None
        size, self.pending = self.pending, None
        self.saved = size
        return size


__all__ = ["APP_NAME", "MIN_WINDOW", "SAVE_AFTER", "SizeMemory", "enforce_minimum",
           "grow_to_minimum", "make_icon", "name_window", "window_size"]
