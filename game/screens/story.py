"""The story screen: the scene picture, the narration with a typewriter, the choices, and play.

Each frame it reads the Session (cheap attribute reads) and rebuilds its widgets only when the
scene, its status or its version changed. Narration streams into the text box as the narrator
writes it; the picture crossfades in when the painter hands it over, and until then the previous
one stays up with a progress bar. Rollback (wheel up, Ctrl+Z) steps back through pages, then
scenes; wheel down (Page Down) past the last page rolls forward again along the path last played.
Typed actions already told from a scene are offered beside its choices. An ending shows a closing
card (its name, the scenes played, back to a choice, new game, title). When the narrator fails,
the text box says why and offers to try again, go back, or play on with the built-in storylet
narrator (never a silent fallback).

Input lives in story_input.py, drawing in story_view.py. Every action goes through App.guard, so
an engine error is a toast, never a crash.
"""

from __future__ import annotations

import pygame

from engine import MAX_ACTION_CHARS, SCENE_FAILED, SCENE_READY
from game.screens.base import Screen
from game.screens.story_input import StoryInput
from game.screens.story_view import StoryView
from game.ui.widgets import Button, Menu, TextBox, TextInput

AUTO_DELAY = 1.4         # auto-advance: seconds after a page is shown, plus per character...
AUTO_PER_CHAR = 0.018    # ... both divided by the pace chosen in Settings (auto_advance_speed)
TYPED_SHOWN = 3          # typed actions already told from a scene, offered beside its choices


class StoryScreen(StoryInput, StoryView, Screen):
    """Where the game is played. Attached to one Session at a time (or None while loading)."""

    def __init__(self, app):
        super().__init__(app)
        self.session = None
        self.box = TextBox()
        self.choices = Menu(numbers=True)
        self.action = TextInput("Or type what you do...", self._act, max_chars=MAX_ACTION_CHARS)
        self.quick = Menu(horizontal=True)
        self.versions = [Button("<", lambda: self._version(-1)), Button(">", lambda: self._version(1))]
        self.signature = None
        self.read: set[tuple[int, int]] = set()   # (node, version) already shown in full
        self.rollback = False      # the next rebuild comes from a rollback: show the last page
        self.trail: list[int] = []  # the path last played, for rolling forward after a rollback
        self.ending = False        # the closing card is shown instead of choices
        self.failed_images: set[int] = set()
        self.auto_timer = 0.0
        self.auto_rect: pygame.Rect | None = None   # where the auto-advance badge was last drawn
        self.text_rect = pygame.Rect(0, 0, 0, 0)
        self.line_height = 1
        self.box_rect = pygame.Rect(0, 0, 0, 0)
        self.card_rect = pygame.Rect(0, 0, 0, 0)   # the ending's closing card
        self._backdrop: pygame.Surface | None = None
        self._backdrop_key = None
        self._backdrop_old: pygame.Surface | None = None
        self._painting_shown = False
        self._turn_for, self._turn = None, 0
        self._choices_at: tuple | None = None   # (scene signature, app time) the choices showed
        self._build_quick()

    # -- wiring -----------------------------------------------------------------------------
    def attach(self, session, resumed: bool = False) -> None:
        """Show another Session (or none while one loads). A resumed story opens where it was
        left: its scene's last page, read, with the choices showing (roll back to re-read)."""
        self.session = session
        self.signature = None
        self.rollback = resumed
        self.read.clear()
        self.trail = []
        self.failed_images.clear()
        self.box.set_text("")
        self.choices.set_buttons([])
        self.action.clear()
        self.action.focus(False)

    def _build_quick(self) -> None:
        app = self.app
        from game.screens.history import HistoryScreen
        from game.screens.map import MapScreen
        from game.screens.saves import SavesScreen
        from game.screens.export import ExportScreen
        from game.screens.settings import SettingsScreen
        from game.screens.title import TitleScreen
        items = [
            ("Back", self.roll_back), ("Regen", self.regenerate),
            ("Map", lambda: app.push(MapScreen(app))),
            ("History", lambda: app.push(HistoryScreen(app))),
            ("Status", self.open_status),
            ("Auto", self.toggle_auto),
            ("Save", lambda: app.push(SavesScreen(app, "save"))),
            ("Load", lambda: app.push(SavesScreen(app, "load"))),
            ("Q.Save", app.quicksave), ("Q.Load", app.quickload),
            ("Prompt", self.open_prompt),
            ("Export", lambda: app.push(ExportScreen(app))),
            ("Settings", lambda: app.push(SettingsScreen(app))),
            ("Menu", lambda: app.push(TitleScreen(app))),
        ]
        self.quick.set_buttons([Button(label, action) for label, action in items])

    # -- following the session --------------------------------------------------------------
    def _signature(self):
        session = self.session
        if session is None:
            return None
        scene = session.scene()
        return (id(session), scene.id, scene.status, scene.active, len(scene.versions))

    def sync(self) -> None:
        """Rebuild what is shown if the scene changed; stream text that arrived."""
        signature = self._signature()
        if signature != self.signature:
            self.signature = signature
            self._rebuild()
        elif self.session is not None and self.session.waiting:
            self.box.set_text(self.session.stream_text())

    def _rebuild(self) -> None:
        session = self.session
        self.auto_timer = 0.0
        self.action.focus(False)
        if session is None:
            self.box.set_text("")
            self.choices.set_buttons([])
            return
        scene = session.scene()
        if scene.status == SCENE_READY:
            self.box.set_text(scene.current.narration)
            key = (scene.id, scene.active)
            if self.rollback:
                self.box.finish()
            elif key in self.read:
                self.box.instant = True
            self.read.add(key)
            labels = [c.label for c in session.choices()]
            buttons = [Button(label, (lambda i=i: self.choose(i)), hint=str(i + 1), align="left")
                       for i, label in enumerate(labels)]
            for child in self._typed_branches()[-TYPED_SHOWN:]:   # what was typed here before
                buttons.append(Button(f"\u201c{child.label}\u201d", (lambda n=child.id: self.go_to(n)),
                                      hint=str(len(buttons) + 1), align="left"))
            self.choices.set_buttons(buttons)
            self._request_image()
        elif scene.status == SCENE_FAILED:
            self._show_failure(scene)
        else:
            self.box.set_text(session.stream_text())
            self.choices.set_buttons([])
        self.ending = session.ended
        if self.ending:
            self.choices.set_buttons([
                Button("Back to a choice", self.back_to_choice, "1", align="left"),
                Button("New game", self.new_game, "2", align="left"),
                Button("Title", self.to_title, "3", align="left")])
        self.rollback = False
        self.layout(self.app.surface.get_size())

    def _show_failure(self, scene) -> None:
        """Why the narrator failed, and the ways on: try again, go back, the built-in narrator."""
        narrator = self.session.narrator
        self.box.set_text(f"The {narrator.id} narrator could not tell this scene: "
                          f"{scene.error or 'no reason was given.'}")
        self.box.finish()
        buttons = [Button("Try again", self.regenerate, "R", align="left")]
        if scene.parent is not None:
            buttons.append(Button("Go back", self.roll_back, "Ctrl+Z", align="left"))
        if narrator.id != "storylets":
            buttons.append(Button("Use the built-in narrator", self.use_builtin_narrator, "N",
                                  align="left"))
        self.choices.set_buttons(buttons)

    def _typed_branches(self) -> list:
        """Typed actions from this scene (this version) that were told: they stay reachable."""
        return self.session.typed_actions()

    def _request_image(self) -> None:
        session = self.session
        if session is None or session.scene().status != SCENE_READY:
            return
        image = session.image()
        if image is not None:
            self.app.image.show(session.scene().current.image_key, image)

    def on_session_events(self, events) -> None:
        current = self.session.current if self.session else None
        for event in events:
            if event.node != current:
                continue
            if event.kind == "image":
                self.failed_images.discard(current)
                self._request_image()
            elif event.kind == "error":
                self.failed_images.add(current)

    # -- actions ----------------------------------------------------------------------------
    def _pace(self) -> float | None:
        """Seconds since the choices of this scene showed (the player model reads it as the
        player's pace); None when they have not shown."""
        if self._choices_at is None or self._choices_at[0] != self.signature:
            return None
        return self.app.seconds - self._choices_at[1]

    def choose(self, index: int) -> None:
        if self.session is not None:
            self.session.choose(index, seconds=self._pace())
            self.app.mixer.effect("choose")
            self.sync()

    def _act(self, text: str) -> None:
        if self.session is None:
            return
        self.session.act(text, seconds=self._pace())
        self.app.mixer.effect("choose")
        self.action.clear()
        self.action.focus(False)
        self.sync()

    def advance(self) -> None:
        self.auto_timer = 0.0
        self.box.advance()

    def roll_forward(self) -> None:
        """Next page; past the last one, forward one scene along the path last played."""
        self.auto_timer = 0.0
        if self.box.advance() or self.session is None or self.session.waiting:
            return
        session, trail = self.session, self.trail
        if session.current in trail:
            index = trail.index(session.current)
            if index + 1 < len(trail) and session.knows(trail[index + 1]) \
                    and session.scene(trail[index + 1]).status == SCENE_READY:
                session.jump(trail[index + 1])
                self.sync()

    def go_to(self, node: int) -> None:
        """Go to a scene already told (a typed action taken here before)."""
        if self.session is not None:
            self.session.jump(node)
            self.sync()

    def roll_back(self) -> None:
        """Back one page; on the first page, back one scene (its last page, already read)."""
        if self.box.back():
            return
        if self.session is None:
            return
        if self.session.current not in self.trail:     # remember where we were, to roll forward
            self.trail = self.session.path()
        if self.session.back():
            self.rollback = True
            self.app.mixer.effect("rewind")
            self.sync()
        else:
            self.app.notice("This is the beginning of the story.")

    def back_to_choice(self) -> None:
        """From an ending: back to the scene whose choice led here, its choices showing."""
        if self.session is not None and self.session.current not in self.trail:
            self.trail = self.session.path()
        if self.session is not None and self.session.back():
            self.rollback = True
            self.sync()

    def new_game(self) -> None:
        from game.screens.title import WorldPicker
        self.app.push(WorldPicker(self.app))

    def to_title(self) -> None:
        """Close the story (it is autosaved) and show the title screen."""
        from game.screens.title import TitleScreen
        self.app.close_story()
        self.app.replace_all(TitleScreen(self.app))

    def open_status(self) -> None:
        from game.screens.status import StatusScreen
        if self.session is not None:
            self.app.push(StatusScreen(self.app))

    def regenerate(self) -> None:
        if self.session is not None:
            self.session.regenerate()
            self.sync()

    def _version(self, step: int) -> None:
        session = self.session
        if session is None or session.waiting:
            return
        scene = session.scene()
        if len(scene.versions) > 1:
            session.select_version((scene.active + step) % len(scene.versions))
            self.sync()

    def use_builtin_narrator(self) -> None:
        """Tell the story from here with the storylet narrator (it needs no model); later new
        games use it too, until the game is started again with another --narrator."""
        if self.session is None or self.session.narrator.id == "storylets":
            return
        self.session.switch_narrator("storylets")
        self.app.narrator = self.session.narrator
        self.sync()

    def open_prompt(self) -> None:
        from game.screens.prompt import PromptScreen
        self.app.push(PromptScreen(self.app))

    def auto_delay(self) -> float:
        """Seconds auto-advance waits on a finished page: a pause plus reading time for its
        characters, divided by the pace the player chose (2 = twice as fast)."""
        pace = max(0.25, float(self.app.config.display.auto_advance_speed))
        return (AUTO_DELAY + AUTO_PER_CHAR * self.box.page_chars) / pace

    def auto_label(self) -> str:
        """The lasting indicator's text while auto-advance is on (e.g. 'auto ×1.5'), else ''."""
        display = self.app.config.display
        return f"auto \u00d7{display.auto_advance_speed:g}" if display.auto_advance else ""

    def toggle_auto(self) -> None:
        on = not self.app.config.display.auto_advance
        self.app.set_display(auto_advance=on)
        self.app.notice("Auto-advance on." if on else "Auto-advance off.")

    def _open_map(self) -> None:
        from game.screens.map import MapScreen
        self.app.push(MapScreen(self.app))

    def animating(self) -> bool:
        session = self.session
        auto_counting = self.app.config.display.auto_advance and not self.box.at_end
        return (session is None or session.waiting or not self.box.page_done
                or self.action.focused or self._painting_shown or bool(self.app.loading)
                or auto_counting or self.app.exports.running)

    @property
    def choices_visible(self) -> bool:
        session = self.session
        return (session is not None and not session.waiting and bool(self.choices.buttons)
                and self.box.at_end)

    @property
    def can_act(self) -> bool:
        session = self.session
        return (self.choices_visible and session.scene().status == SCENE_READY
                and not session.ended)

    @property
    def turn(self) -> int:
        """The turn shown: scenes along the path to here (it goes back with a rollback)."""
        session = self.session
        if session is None:
            return 0
        if self._turn_for != (id(session), session.current):
            self._turn_for = (id(session), session.current)
            self._turn = len(session.path()) - 1
        return self._turn

    # -- frame ------------------------------------------------------------------------------
    def update(self, dt: float) -> None:
        self.sync()
        display = self.app.config.display
        self._layout_box()
        self.box.update(dt, display.text_speed)
        self.action.update(dt)
        if self.choices_visible and (self._choices_at is None
                                     or self._choices_at[0] != self.signature):
            self._choices_at = (self.signature, self.app.seconds)
        if display.auto_advance and self.box.page_done and not self.box.at_end:
            self.auto_timer += dt
            if self.auto_timer >= self.auto_delay():
                self.advance()
