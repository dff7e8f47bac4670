"""What every screen is: the Screen base class, and the Host it runs in (what it may use of it).

Screens import this module, never game.app: the app builds screens and pushes them, and a
screen reaches the app only through the Host it was given (its theme, text cache, Library,
Session and the few stack and message calls below). So the app and its screens do not import
each other, and a screen can be read, and tested, without the app's frame loop. Draws nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

import pygame

if TYPE_CHECKING:  # pragma: no cover
    from engine.config import Config
    from engine.library import Library
    from game.ui.render import SceneImage, TextCache
    from game.ui.theme import Ctx, Theme


class Host(Protocol):
    """What a screen may use of the app that shows it (game.app.App is the one Host)."""

    config: Config               # settings (display ones change in the game)
    library: Library             # worlds, covers, save slots, thumbnails, cached pictures
    session: Any                 # the engine Session being played, or None
    theme: Theme
    ctx: Ctx                     # what widgets draw with
    text: TextCache
    surface: pygame.Surface
    image: SceneImage            # the scene picture shown behind the story
    covers: dict                 # world id -> its cover Surface (None while painted)
    exports: Any                 # game.exports.Exports: the film, book or Twine story being made
    mixer: Any                   # game.sound.Mixer: music, voice and effects
    narrator: Any                # the narrator and painter stories use, once built
    painter: Any
    loading: str                 # what is being loaded, while no story is ready
    seconds: float               # time since start, for animations
    settings_file: Path | None

    def push(self, screen: Screen) -> Screen: ...
    def pop(self) -> None: ...
    def replace_all(self, screen: Screen) -> Screen: ...
    def background(self, work: Callable[[], Any], on_done: Callable[[Any], None],
                   on_error: Callable[[BaseException], None] | None = None) -> None: ...
    def error(self, err: BaseException | str) -> None: ...
    def notice(self, message: str) -> None: ...
    def set_display(self, **changes) -> None: ...
    def set_audio(self, **changes) -> None: ...
    def set_player_model(self, on: bool) -> None: ...
    def toggle_mute(self) -> None: ...
    def changed(self) -> None: ...
    def quit(self) -> None: ...
    def new_game(self, world=None, player: dict | None = None) -> None: ...
    def load_game(self, name: str | None = None, slot: str | None = None) -> None: ...
    def quicksave(self) -> None: ...
    def quickload(self) -> None: ...
    def close_story(self) -> None: ...
    def show_story(self) -> None: ...


class Screen:
    """One screen on the app's stack. Overlays draw over the screen below them, which the app
    draws once (dimmed by the overlay's tint) and then reuses while the overlay is open."""

    overlay = False

    def tint(self, palette):
        """The colour laid over the screens below this overlay: a strong dim, so nothing under
        it competes with the overlay's own text."""
        return palette.shade

    def __init__(self, app: Host):
        self.app = app

    def enter(self) -> None:
        """Became the top screen (pushed, or the one above was popped)."""

    def layout(self, size: tuple[int, int]) -> None:
        """The window changed size (also called once before the first draw)."""

    def handle(self, event: pygame.event.Event) -> None:
        """One input event, only while this screen is on top."""

    def update(self, dt: float) -> None:
        """Advance animations by dt seconds, only while on top."""

    def animating(self) -> bool:
        """True while something moves on its own, so every frame must be drawn."""
        return False

    def draw(self, surface: pygame.Surface) -> None:
        """Draw the whole screen (overlays: draw over what is already there)."""
