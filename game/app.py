"""The pygame application: the window, the frame loop and the stack of screens.

The loop only polls: each frame it drains input, applies finished background work (the
Session's narration and painting, and the app's own small jobs such as scaling an image or
reading the save list), updates and draws the screens, and presents the frame. Nothing in a frame
waits on a model, a painter or the disk. Sessions themselves are created and loaded on a
background job, so even a large save never freezes the window.

`App.step(events)` runs one frame and is what the tests drive; `run_window()` (game/launch.py)
is what `dreamreel play` calls. pygame is initialised by `App.open()`, never at import; opening
the window also keeps a CPU core free of model threads (engine.reserve_cores_for_ui) so the frame
loop stays smooth, and names the window "Dreamreel" for the desktop. A size the player drags the
window to is remembered in the user config once it stands still. The App builds screens and
pushes them; screens never import this module (they see the App as their Host, game.screens.base).
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import pygame

from engine import JOB_DONE, JOB_FAILED, Library, ThreadedRunner, reserve_cores_for_ui
from engine.config import Config, save_user_settings
from engine.errors import DreamreelError
from engine.events import EventKind
from game.exports import Exports
from game.play import Stories, settle_heap
from game.screens.base import Screen
from game.sound import Mixer
from game.ui.render import SceneImage, TextCache, clear_caches, shade
from game.ui.theme import Theme
from game.ui.widgets import Ctx, Toasts
from game.window import (SizeMemory, enforce_minimum, grow_to_minimum, make_icon, name_window,
                         window_size)

FPS = 60
IDLE_REDRAW = 0.25   # seconds: a still screen is redrawn at least this often anyway


class App(Stories):
    """The game window. Owns the display, the theme, the screens, the current Session and the
    Library (engine.library) that screens ask for worlds, covers, save slots and thumbnails.
    Screens see it as their Host (game.screens.base).

    Args:
        config: settings (display settings are changed in the game and written back).
        narrator, painter: backend objects to use instead of building them from the config.
        runner_factory: makes job runners (default ThreadedRunner; tests pass InlineRunner, which
            runs the work inside poll() so every frame is deterministic).
        slot: the slot a new story autosaves into (default None: every story gets its own
            slot, named after its world and the date; a loaded story writes back to its slot).
        settings_file: where settings are written (default: the user config file).
    """

    def __init__(self, config: Config, *, narrator=None, painter=None,
                 runner_factory: Callable[[], Any] | None = None, slot: str | None = None,
                 settings_file: Path | None = None, player: dict | None = None):
        self.config = config
        self.player = dict(player or {})  # the profile given on the command line, for new stories
        self.narrator = narrator
        self.painter = painter
        self.runner_factory = runner_factory
        self.slot = slot
        self.settings_file = settings_file
        self.session = None
        self.library = Library(config)   # worlds, covers, save slots, thumbnails, the image cache
        self.exports = Exports(self)     # a film, book or Twine story being made, if any
        self.mixer = Mixer(config.audio, self.background, self.notice)   # opened with the window
        self.covers: dict[str, pygame.Surface | None] = {}   # world id -> cover (None: painting)
        self.screens: list[Screen] = []
        self.running = True
        self.loading = ""            # what is being loaded, shown while no session is ready
        self.toasts = Toasts()
        self.text = TextCache()
        self.theme: Theme | None = None
        self.ctx: Ctx | None = None
        self.surface: pygame.Surface | None = None
        self.image: SceneImage | None = None
        self.clock: pygame.time.Clock | None = None
        self.seconds = 0.0           # time since start, for animations
        self.frame = 0
        self._jobs = None
        self._last_step = 0.0
        self._last_draw = 0.0
        self.drawn = False           # whether the last step drew a frame
        self._below: pygame.Surface | None = None   # the screens under the top overlay, drawn
        self._below_key = None
        self._changes = 0
        self._world_shown = None     # the world whose problems were last shown
        self._story = None
        self._sizes: SizeMemory | None = None   # a resized window's size, saved once it is still

    # -- display ----------------------------------------------------------------------------
    def open(self) -> "App":
        """Initialise pygame's display and fonts and open the window (before any model loads:
        model backends then leave one core to the frame loop)."""
        reserve_cores_for_ui(1)
        name_window()
        pygame.display.init()
        pygame.font.init()
        pygame.display.set_caption("Dreamreel")
        pygame.display.set_icon(make_icon())
        pygame.key.set_repeat(400, 35)
        display = self.config.display
        self._sizes = SizeMemory((display.width, display.height))
        self.theme = Theme((display.width, display.height), display.font_size,
                           display.high_contrast)
        self.theme.preload()
        self.text.chain = self.theme.glyphs
        self.ctx = Ctx(self.theme, self.text)
        self._set_mode(display.fullscreen)
        self.clock = pygame.time.Clock()
        self._jobs = self._runner()
        self.mixer.open()
        self.image = SceneImage(self.background)
        self.image.resize(self.surface.get_size())
        from game.screens.story import StoryScreen
        self._story = StoryScreen(self)
        settle_heap()
        return self

    def _set_mode(self, fullscreen: bool) -> None:
        display = self.config.display
        if fullscreen:
            self.surface = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        else:
            self.surface = pygame.display.set_mode(window_size((display.width, display.height)),
                                                   pygame.RESIZABLE)
            enforce_minimum()
        self._resized()

    def _resized(self) -> None:
        self._changes += 1
        self.surface = pygame.display.get_surface()
        size = self.surface.get_size()
        self.theme.resize(size)
        if self.image is not None:
            self.image.resize(size)
        for screen in self.screens:
            screen.layout(size)

    def _runner(self):
        return self.runner_factory() if self.runner_factory else ThreadedRunner()

    # -- screens ----------------------------------------------------------------------------
    @property
    def top(self) -> Screen | None:
        return self.screens[-1] if self.screens else None

    @property
    def story(self):
        return self._story

    def push(self, screen: Screen) -> Screen:
        self._changes += 1           # what lies under the new top is drawn afresh
        self.screens.append(screen)
        screen.layout(self.surface.get_size())
        screen.enter()
        return screen

    def pop(self) -> None:
        if len(self.screens) > 1:
            self._changes += 1
            self.screens.pop()
            self.top.enter()

    def replace_all(self, screen: Screen) -> Screen:
        self._changes += 1
        self.screens.clear()
        return self.push(screen)

    def show_story(self) -> None:
        """Make the story screen the only one (after starting or loading a story)."""
        self.replace_all(self._story)

    # -- the frame --------------------------------------------------------------------------
    def step(self, events: list[pygame.event.Event] | None = None, dt: float | None = None,
             present: bool = True) -> bool:
        """Run one frame: input, background results, update, draw. False once quit."""
        now = time.perf_counter()
        if dt is None:
            dt = min(0.1, now - self._last_step) if self._last_step else 1.0 / FPS
        self._last_step = now
        self.seconds += dt
        self.frame += 1
        events = pygame.event.get() if events is None else events
        for event in events:
            self.dispatch(event)
            if not self.running:
                return False
        changes = self._changes
        self.poll()
        if self.top is not None:
            self.top.update(dt)
        self.image.update(dt)
        self.mixer.update(dt)
        self.toasts.update(dt)
        self._remember_size()
        # a still screen is not redrawn (nor sent to the display) until something changes
        self.drawn = bool(events) or changes != self._changes or self.image.fading \
            or bool(self.toasts.items) or now - self._last_draw >= IDLE_REDRAW \
            or (self.top is not None and self.top.animating())
        if self.drawn:
            self._last_draw = now
            self.draw()
            if present:
                pygame.display.flip()
        return self.running

    def dispatch(self, event: pygame.event.Event) -> None:
        kind = event.type
        if kind == pygame.QUIT:
            self.quit()
            return
        if kind in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            surface = pygame.display.get_surface()
            if surface is not None and not self.config.display.fullscreen \
                    and window_size(surface.get_size()) != surface.get_size():
                grow_to_minimum()     # dragged smaller (a window manager ignoring the hint)
            if surface is not None and surface.get_size() != self.theme.size:
                self._resized()
            if surface is not None and not self.config.display.fullscreen:
                self._sizes.note(surface.get_size(), self.seconds)
            return
        if kind == pygame.KEYDOWN and (event.key == pygame.K_F11 or (
                event.key == pygame.K_RETURN and event.mod & pygame.KMOD_ALT)):
            self.set_display(fullscreen=not self.config.display.fullscreen)
            return
        if self.toasts.handle(event):
            return
        if self.top is not None:
            self.guard(self.top.handle, event)

    def poll(self) -> None:
        """Apply finished background work. Never blocks."""
        for event in self._jobs.poll():
            self._changes += 1
            on_done, on_error = event.job.key
            if event.kind == JOB_DONE:
                self.guard(on_done, event.payload)
            elif event.kind == JOB_FAILED:
                if on_error is not None:
                    self.guard(on_error, event.payload)
                else:
                    self.error(event.payload)
        if self.session is not None:
            events = self.session.poll()
            self.mixer.on_session_events(events, self.session.current)
            if events:
                self._story.on_session_events(events)
                if any(event.kind != EventKind.TOKEN for event in events):
                    self._changes += 1
                self._show_notices(events)

    def draw(self) -> None:
        """Draw the screens. What lies under an overlay is drawn once and then reused."""
        surface, screens = self.surface, self.screens
        if not screens:
            surface.fill(self.theme.palette.background)
        elif screens[-1].overlay and len(screens) > 1:
            key = (id(screens[-1]), len(screens), surface.get_size(), self._changes)
            if key != self._below_key or self._below is None:
                self._draw_stack(surface, len(screens) - 1)
                shade(surface, screens[-1].tint(self.theme.palette))
                self._below, self._below_key = surface.copy(), key
            else:
                surface.blit(self._below, (0, 0))
            screens[-1].draw(surface)
        else:
            self._below = None
            self._draw_stack(surface, len(screens))
        self.toasts.draw(surface, self.ctx)

    def _draw_stack(self, surface: pygame.Surface, end: int) -> None:
        first = end - 1
        while first > 0 and self.screens[first].overlay:
            first -= 1
        for index in range(max(0, first), end):
            screen = self.screens[index]
            if index > first and screen.overlay:
                shade(surface, screen.tint(self.theme.palette))
            screen.draw(surface)

    def changed(self) -> None:
        """Something under an overlay may look different: redraw it next frame."""
        self._changes += 1

    def run(self, frames: int | None = None, screenshot: Path | None = None) -> int:
        """The loop: until quit, or for `frames` frames (then save `screenshot`)."""
        count = 0
        try:
            while self.running:
                self.step()
                count += 1
                if frames is not None and count >= frames:
                    break
                self.clock.tick(FPS)
            if screenshot is not None:
                screenshot = Path(screenshot)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                pygame.image.save(self.surface, str(screenshot))
        finally:
            self.close()
        return 0

    # -- background work and errors ---------------------------------------------------------
    def background(self, work: Callable[[], Any], on_done: Callable[[Any], None],
                   on_error: Callable[[BaseException], None] | None = None) -> None:
        """Run `work()` off the frame loop; `on_done(result)` runs later on this thread."""
        self._jobs.submit(lambda job: work(), 5, "ui", key=(on_done, on_error))

    def guard(self, function: Callable, *args) -> Any:
        """Call into game or engine code; an error becomes a toast and play goes on."""
        try:
            return function(*args)
        except DreamreelError as err:
            self.error(err)
        except Exception as err:  # a bug must not end the player's game: show it, log it
            traceback.print_exc(file=sys.stderr)
            self.error(f"Something went wrong ({type(err).__name__}: {err}). "
                       f"Your story is autosaved; you can keep playing.")
        return None

    def error(self, err: BaseException | str) -> None:
        self.toasts.push(str(err), "error")

    def notice(self, message: str) -> None:
        self.toasts.push(message, "notice")

    # -- settings ---------------------------------------------------------------------------
    def set_display(self, **changes) -> None:
        """Apply display settings now and keep them in the user config."""
        old = self.config.display
        self.config = self.config.with_changes(display=changes)
        new = self.config.display
        if new.fullscreen != old.fullscreen:
            self._sizes.forget()        # a size dragged to just before does not count
            self._set_mode(new.fullscreen)
        if new.font_size != old.font_size or new.high_contrast != old.high_contrast:
            self.theme.font_size = new.font_size
            self.theme.high_contrast = new.high_contrast
            clear_caches()
            self._resized()
        try:
            save_user_settings({"display": changes}, self.settings_file)
        except DreamreelError as err:
            self.error(f"{err} The setting applies to this game only.")

    def set_audio(self, **changes) -> None:
        """Apply sound settings (volumes, mute, reading aloud) now and keep them in the user
        config."""
        self.config = self.config.with_changes(audio=changes)
        self.mixer.set_settings(self.config.audio)
        if self.session is not None:
            self.session.set_audio(self.config.audio)
        try:
            save_user_settings({"audio": changes}, self.settings_file)
        except DreamreelError as err:
            self.error(f"{err} The setting applies to this game only.")

    def set_player_model(self, on: bool) -> None:
        """Turn the player model on or off ("The world reads you") for the story being played
        and later ones, and keep it in the user config."""
        self.config = self.config.with_changes(game={"player_model": on})
        if self.session is not None:
            self.session.set_player_model(on)
        try:
            save_user_settings({"game": {"player_model": on}}, self.settings_file)
        except DreamreelError as err:
            self.error(f"{err} The setting applies to this game only.")

    def toggle_mute(self) -> None:
        """U: sound off, or on again (remembered)."""
        muted = not self.config.audio.muted
        self.set_audio(muted=muted)
        self.notice("Sound off (U turns it on)" if muted else "Sound on")

    def _remember_size(self, now: float | None = None) -> None:
        """Keep the window's size in the user config once the player has stopped resizing."""
        size = self._sizes.due(self.seconds if now is None else now)
        if size is not None and not self.config.display.fullscreen:
            self.set_display(width=size[0], height=size[1])

    def quit(self) -> None:
        self.running = False

    def close(self) -> None:
        """Save a new window size, autosave and stop background work. Safe to call twice."""
        if self._sizes is not None and pygame.display.get_init():
            self._remember_size(now=float("inf"))
        if self.session is not None:
            self.session.autosave()
            self.session.close()
            self.session = None
        if self._jobs is not None:
            self._jobs.shutdown()
            self._jobs = None
        self.mixer.close()
        pygame.display.quit()
