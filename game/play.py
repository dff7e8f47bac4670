"""Starting, loading and saving stories for the App, always off the frame loop.

A Session is created (Session.new) or loaded (Session.resume) on a background job, so even a
large save never freezes the window; until it arrives the story screen shows what is loading.
Narrator and painter objects are built once and reused by later stories. Every notice and error
the Session reports (hot reload, a broken edit, autosave and painter failures, ...) becomes a
toast, each once; when a story starts or its world is reloaded, the world's problems (the parts
left out until they are fixed) are shown too, a few of them and a count of the rest. Mixed into
App; draws nothing.
"""

from __future__ import annotations

import gc
from typing import Any

from engine.errors import DreamreelError

QUICK_SUFFIX = "-quicksave"   # each story has its own quicksave: its slot's name and this


def quick_slot(story_slot: str) -> str:
    """The quicksave slot of the story in `story_slot` (F5 and F9 never cross stories)."""
    return story_slot[:48 - len(QUICK_SUFFIX)] + QUICK_SUFFIX
PROBLEMS_SHOWN = 3      # world problems shown as toasts (then a count of the rest)


def settle_heap(collect: bool = True) -> None:
    """Move what is alive now (modules, fonts, a loaded story) out of the collector's way, so
    its full passes during play stay short (gc.freeze: those objects are never scanned again).
    Inside a frame, `collect=False` skips the collection itself (it may take tens of ms)."""
    if collect:
        gc.unfreeze()    # a story closed since the last freeze can be collected now
        gc.collect()
    gc.freeze()


class Stories:
    """The App's story lifecycle: new game, load, quicksave and quickload, notices."""

    def _show_notices(self, events) -> None:
        """Turn the notices and errors among a poll's events into toasts. After a hot reload,
        the new world's problems are shown like those of a world that starts: a few, then a
        count."""
        fresh = [event for event in events if event.is_message]
        if not fresh:
            return
        world, problems = self.session.world, set()
        if world is not self._world_shown:       # reloaded: its problems come as notices
            self._world_shown = world
            problems = {str(problem) for problem in getattr(world, "problems", [])}
        grouped = False
        for event in fresh:
            message = str(event.payload)
            if event.kind == "notice" and message in problems:
                if not grouped:
                    self._show_world_problems(world)
                grouped = True
            elif event.kind in ("error", "notice"):
                self.toasts.push(message, event.kind)

    def _show_world_problems(self, world) -> None:
        """Say what of the world is left out because its files have problems (a few, then how
        many more), so a modder's mistake is never silently missing content."""
        self._world_shown = world
        problems = [str(problem) for problem in getattr(world, "problems", [])]
        for problem in problems[:PROBLEMS_SHOWN]:
            self.toasts.push(f"World problem (left out until fixed): {problem}", "error")
        if len(problems) > PROBLEMS_SHOWN:
            self.toasts.push(f"...and {len(problems) - PROBLEMS_SHOWN} more world problems: "
                             f"`dreamreel worlds validate {world.root}` lists them all.", "error")

    # -- stories ----------------------------------------------------------------------------
    def _session_options(self) -> dict:
        """What every story this window opens shares. No slot unless the player named one
        (--slot): a new story then makes its own, a loaded one goes on in the slot it came from."""
        options: dict[str, Any] = {}
        if self.slot is not None:        # the first story only: later ones keep their own
            options["slot"], self.slot = self.slot, None
        if self.narrator is not None:
            options["narrator"] = self.narrator
        if self.painter is not None:
            options["painter"] = self.painter
        if self.runner_factory is not None:
            options["runner"] = self.runner_factory()
        options["images"] = self.library.images     # one image cache for the whole window
        return options

    def new_game(self, world=None, player: dict | None = None) -> None:
        """Start a new story (in the background) and show the story screen. `player`: the
        player's profile (name, pronouns, look, portrait), else the command line's."""
        from engine import Session
        config, options = self.config, self._session_options()
        options["player"] = dict(player if player is not None else self.player)
        self._begin_loading(f"Opening {world.title if world else 'the story'}...")
        self.background(lambda: Session.new(config, world=world, **options),
                        self._session_ready, self._session_failed)

    def load_game(self, name: str | None = None, slot: str | None = None) -> None:
        """Load a slot (default: the newest) in the background and go on from there, writing
        into that slot (or `slot`: quickload goes on in the story's own slot)."""
        from engine import Session
        config, options = self.config, self._session_options()
        if slot is not None:
            options["slot"] = slot
        self._begin_loading("Loading your story...")
        self.background(lambda: Session.resume(config, name, **options),
                        lambda session: self._session_ready(session, resumed=True),
                        self._session_failed)

    def _begin_loading(self, message: str) -> None:
        """Show the story screen saying what loads; the story being played stays until the new
        one is ready, so a load that fails leaves the player where they were."""
        self.loading = message
        self.show_story()

    def _session_ready(self, session, resumed: bool = False) -> None:
        self._close_session()
        self.image.clear()
        self.session = session
        self.loading = ""
        session.enable_sound(self.mixer.available)     # no speakers: no music is composed
        self._show_world_problems(session.world)
        self._story.attach(session, resumed)
        settle_heap(collect=False)     # a large story's objects: out of the collector's way
        if self.narrator is None:      # build models once: later stories reuse them
            self.narrator = session.narrator
        if self.painter is None:
            self.painter = session.painter

    def _session_failed(self, err: BaseException) -> None:
        self.loading = ""
        self.error(err if isinstance(err, DreamreelError) else
                   f"Could not open the story: {type(err).__name__}: {err}")
        if self.session is None:
            from game.screens.title import TitleScreen
            self.replace_all(TitleScreen(self))

    def quicksave(self) -> None:
        if self.session is None:
            self.error("There is no story to save yet.")
            return
        self.session.save(quick_slot(self.session.slot), quiet=True)
        self.notice("Quicksaved (F9 to load it).")

    def quickload(self) -> None:
        """Go back to this story's quicksave, going on in the story's own slot."""
        if self.session is None:
            self.error("There is no story to quickload into: Continue or Load one.")
            return
        name = quick_slot(self.session.slot)
        if not self.library.slot_exists(name):
            self.error("No quicksave of this story yet: press F5 to make one.")
            return
        self.load_game(name, slot=self.session.slot)

    def close_story(self) -> None:
        """Autosave and close the story being played (e.g. to go to the title screen)."""
        self._close_session()

    def _close_session(self) -> None:
        if self.session is not None:
            self.session.autosave()
            self.session.close()
            self.session = None
        self._story.attach(None)
