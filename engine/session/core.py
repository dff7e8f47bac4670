"""The Session: the one front door to a running story (like ink's Story object).

The pygame game, the terminal mode, the exporters and the benchmarks all drive a Session: it owns
the story graph, the play state (current scene, turn, seed), the narrator and painter, the job
runner, the saves and the image cache. Front ends call its actions (choose, act, back, jump,
regenerate, save) and poll() it every frame; slow work runs on the runner and its results are
applied here, on the caller's thread. Nothing reaches around it. No pygame, no torch.

A story holds its save slot while it is open (engine.saves.slotlock): a second game on the same slot is
refused, and may open a read-only copy or fork it into a new slot. Every notice and error goes
into the one event stream that poll() returns (engine.events): the terminal prints them, the
window shows them as toasts. A scene is never left "generating" without a job telling it
(check_invariants), so no wait can hang on one. close() ends everything the story started.
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict, deque
from typing import Any

from engine.config import Config
from engine.errors import DreamreelError, SaveError
from engine.events import EventKind, SessionEvent
from engine.story.graph import FAILED, GENERATING, READY, STUB, Scene, StoryGraph
from engine.painters.imagecache import ImageCache
from engine.session.jobs import NARRATE_CURRENT, PREFETCH_NARRATE, InlineRunner, Job, ThreadedRunner
from engine.narrators.prompting import PromptBuilder
from engine.narrators.storylets import infer_intent
from engine.painters import painter_from_config
from engine.saves.saver import Saver, give_memory_back
from engine.saves.store import SaveStore, check_name
from engine.story.seeds import derive_seed, fresh_seed, story_seed
from engine.session.narration import Narration, NarrationTiming, Telling
from engine.session.pictures import Pictures
from engine.session.saving import JournalState, Saving
from engine.saves.snapshot import from_snapshot
from engine.story.state import WorldState
from engine.worlds.loading import World, load_world

MAX_ACTION_CHARS = 300   # a typed action is cut to this length
AUTOSAVE_SLOT = "autosave"
OUTBOX_KEPT = 2000       # events kept for a front end that has not polled for a long time
WAIT_STEP_S = 0.1        # a wait looks at the story at least this often (it never spins)


class Session(Narration, Pictures, Saving):
    """A story being played. Create with Session.new() or Session.resume()."""

    def __init__(self, config: Config, world: World, narrator, painter, runner=None,
                 seed: int | None = None, slot: str = AUTOSAVE_SLOT, read_only: bool = False,
                 claim=None):
        """Args (besides the obvious): slot: the slot this story writes; read_only: write no
        slot (a copy of a story another game is playing); claim: the slot's claim when the
        caller took it already (engine.saves.slotlock), else it is taken here (SlotBusy if held)."""
        self.config = config
        self.slot = check_name(slot)
        self.read_only = read_only
        self.store = SaveStore(config.saves_dir)
        # First, before any thread starts: a refused slot leaves nothing running.
        self._claim = None if read_only else (claim or self.store.claim(self.slot))
        if self._claim is not None:   # a story dropped without close() still frees its slot
            self._claim_finalizer = weakref.finalize(self, self._claim.release)
        self.world = world
        self.narrator = narrator
        self.painter = painter
        self.runner = runner or ThreadedRunner()
        self.cache = ImageCache(config.saves_dir / "cache", max_bytes=config.images.cache_mb << 20)
        self.seed = story_seed(seed) if seed else fresh_seed()
        self.graph = StoryGraph(world.initial_state())
        self.current: int = 0
        self.turn = 0
        self.author_note = config.game.author_note
        self._outbox: deque[SessionEvent] = deque(maxlen=OUTBOX_KEPT)   # for the next poll()
        self._dropped = 0                        # messages lost because nobody polled
        self.streams: dict[int, str] = {}       # text streamed so far for scenes being narrated
        self.progress: dict[int, float] = {}    # painting progress per scene
        self.prompts: OrderedDict[int, dict] = OrderedDict()  # prompt inspector, last 200
        self._narrating: dict[int, Telling] = {}   # scenes being told, by node
        self._painting: dict[int, Job] = {}
        self._images: OrderedDict[str, Any] = OrderedDict()
        self._dirty: set[int] = set()
        self._slot_has_snapshot = False
        self._journal_lines = 0   # autosaves appended since the slot's last full snapshot
        self.characters: dict[str, str] = {}   # appearance records, kept with the story
        self._watcher = None                     # hot reload of the world's files
        self._saver = Saver()                    # autosaves are written off the caller's thread
        self._journal = JournalState()           # why the slot's journal cannot go on, or None
        self._save_failing: str | None = None    # the autosave failure last reported
        self._slot_lost_told = False             # told that another story took the slot over
        self._closed = False
        self._prompts = PromptBuilder()          # renders the moddable image.j2
        self._summaries: OrderedDict[tuple, str] = OrderedDict()   # rolling summaries by window
        self._image_template_error = ""
        self.timings: OrderedDict[int, NarrationTiming] = OrderedDict()   # see narration_timing
        self._scene_seconds: float | None = None   # the narrator's last scene, for prefetch
        self._authored = None                       # tells a world's authored opening
        self._terms = None                          # (world, its WorldTerms) for effects checks

    # -- creating ---------------------------------------------------------------------------
    @classmethod
    def new(cls, config: Config, *, world: World | None = None, narrator=None, painter=None,
            runner=None, seed: int | None = None, slot: str | None = None,
            read_only: bool = False) -> "Session":
        """Start a new story: the opening scene is narrated at once (poll to receive it).

        Every story keeps its own slot: with no `slot`, a new one named after the world and
        the date is made ("lantern_coast-2026-12-07", then "-2", "-3"), so a new game never
        touches another story's saves. When the world names a start storylet and the narrator
        is a language model, the opening is the world's own, told by the storylet narrator
        (see Narration._teller). Raises SlotBusy when another game is playing in `slot`."""
        from engine.saves.slotlock import SlotBusy

        store = SaveStore(config.saves_dir)
        world = world or load_world(config.game.world, config.worlds_dir)
        claim = None
        if slot is None:
            for _ in range(100):        # another game may take the same fresh name first
                slot = store.fresh_name(world.id)
                if read_only:
                    break
                try:
                    claim = store.claim(slot, share=False)
                except SlotBusy:
                    continue
                if store.slot_dir(slot).exists():   # made by another game meanwhile
                    claim.release()
                    claim = None
                    continue
                break
            else:
                raise SaveError(f"Could not find a free slot name for a new story in "
                                f"{store.slots_dir}.")
        elif not read_only:
            claim = store.claim(slot)
        try:
            narrator = narrator or config.make_narrator()
            painter = painter or painter_from_config(config)
            session = cls(config, world, narrator, painter, runner,
                          seed=seed or config.game.seed or None, slot=slot, read_only=read_only,
                          claim=claim)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        session._took_over(claim)
        root = session.graph.add_root(seed=derive_seed(session.seed, "root"))
        session.current = root.id
        session._dirty.add(root.id)
        session._narrate(root.id)
        return session

    @classmethod
    def resume(cls, config: Config, name: str | None = None, *, narrator=None, painter=None,
               runner=None, slot: str | None = None, read_only: bool = False) -> "Session":
        """Load a slot (default: the newest) and go on from where it stopped, writing into
        `slot` (default: the slot it was loaded from: every story keeps its own). Raises SlotBusy when another game is playing in `slot` (nothing is read then);
        with read_only the story is read and played but never saved into any slot but one the
        player names (:save NAME), so a story another game is playing can still be opened."""
        store = SaveStore(config.saves_dir)
        name = name or store.latest()
        if name is None:
            raise SaveError(f"No saved story in {store.slots_dir} to continue. Start a new game.")
        name = check_name(name)
        slot = name if slot is None else slot
        claim = None if read_only else store.claim(slot)
        try:
            loaded = store.read(name)
            session = from_snapshot(cls, config, loaded.snapshot, f"{store.slot_dir(name)}",
                                    narrator=narrator, painter=painter, runner=runner, slot=slot,
                                    read_only=read_only, claim=claim)
        except BaseException:
            if claim is not None:
                claim.release()
            raise
        session._took_over(claim)
        for note in loaded.notes:
            session._notice(EventKind.NOTICE, note)
        for warning in loaded.warnings:
            session._notice(EventKind.ERROR, warning)
        if name == session.slot and not loaded.warnings and not loaded.notes:
            session._slot_has_snapshot = True
            session._journal_lines = loaded.journal_lines
        scene = session.scene()
        if scene.status in (STUB, GENERATING, FAILED):
            scene.status = STUB
            session._narrate(scene.id)
        return session

    def _took_over(self, claim) -> None:
        holder = getattr(claim, "took_over", None)
        if holder is not None:
            self._notice(EventKind.NOTICE, f"Slot '{self.slot}' was left locked by a game that stopped "
                                   f"without closing (process {holder.pid}); this game took it "
                                   f"over. Its story is kept up to its last autosave.")

    # -- reading ----------------------------------------------------------------------------
    def scene(self, node: int | None = None) -> Scene:
        return self.graph.scene(self.current if node is None else node)

    def choices(self) -> list[Scene]:
        scene = self.scene()
        if scene.status != READY or scene.current.ending:
            return []
        return self.graph.choices(self.current)

    def state(self) -> WorldState:
        return self.graph.state_after(self.current)

    @property
    def waiting(self) -> bool:
        """True while the current scene is being narrated."""
        return self.scene().status in (STUB, GENERATING)

    @property
    def ended(self) -> bool:
        scene = self.scene()
        return scene.status == READY and scene.current.ending

    def prompt_for(self, node: int | None = None) -> dict | None:
        """The exact prompt (and its token count) a narrator was given for a scene, also while
        it is still narrating; None for narrators without prompts (storylets)."""
        node = self.current if node is None else node
        entry = self._narrating.get(node)
        if entry is not None and "prompt" in entry.request.extras:
            return entry.request.extras
        return self.prompts.get(node)

    def stream_text(self, node: int | None = None) -> str:
        return self.streams.get(self.current if node is None else node, "")

    def path(self) -> list[int]:
        return self.graph.path(self.current)

    # -- acting -----------------------------------------------------------------------------
    def choose(self, index: int) -> Scene:
        """Take the index-th visible choice (0-based)."""
        choices = self.choices()
        if self.waiting:
            raise DreamreelError("The story is still being told; wait for this scene first.")
        if not choices:
            raise DreamreelError("There are no choices here. Go back (:back) or load a save.")
        if not 0 <= index < len(choices):
            raise DreamreelError(f"There is no choice {index + 1}; pick 1-{len(choices)}.")
        self._enter(choices[index].id)
        return self.scene()

    def act(self, text: str) -> Scene:
        """Do something the player typed: a new branch from the current scene."""
        text = " ".join(text.split())[:MAX_ACTION_CHARS]
        if not text:
            raise DreamreelError("Type what you want to do.")
        if self.waiting:
            raise DreamreelError("The story is still being told; wait for this scene first.")
        if self.ended:
            raise DreamreelError("This story has ended. Go back (:back) to choose differently.")
        parent = self.scene()
        count = len(self.graph.children(parent.id))
        child = self.graph.add_child(parent.id, label=text, intent=infer_intent(text),
                                     seed=derive_seed(parent.seed, "act", count, text),
                                     free_text=True)
        self._dirty.add(child.id)
        self._enter(child.id)
        return child

    def back(self) -> bool:
        """Roll back one scene along the path. False at the beginning."""
        scene = self.scene()
        if scene.parent is None:
            return False
        self.current = scene.parent
        self._drop_stale_work()
        self._arrived(self.current, new_turn=False)
        return True

    def jump(self, node: int) -> None:
        """Go to any scene already told (from the story map)."""
        if node not in self.graph or self.graph.scene(node).status != READY:
            raise DreamreelError("That scene has not been told yet; choose it to explore it.")
        if node != self.current:
            self.current = node
            self._drop_stale_work()
            self._arrived(node, new_turn=False)

    def regenerate(self) -> None:
        """Tell the current scene again; the old telling stays as an alternative version.

        The opening too: with a language model narrator its retelling is the model's own (the
        world's authored opening stays as version 1); the storylet narrator tells it again.
        A scene already being told goes on being told (no second telling is started)."""
        scene = self.scene()
        if scene.status == GENERATING and self._telling_alive(scene.id):
            return
        self._narrate(scene.id)

    def switch_narrator(self, spec: str) -> None:
        """Tell the story from now on with another narrator (e.g. 'storylets' after a model
        failed to load). Raises NarratorError for a bad spec; the story so far is kept."""
        narrator = self.config.make_narrator(spec)
        for telling in list(self._narrating.values()):
            telling.job.cancel()
        self.narrator = narrator
        self._scene_seconds = None         # prefetch waits for this narrator's own pace
        self._notice(EventKind.NOTICE, f"The {narrator.id} narrator tells the story from here.")
        scene = self.scene()
        if scene.status in (STUB, FAILED) or (scene.status == GENERATING
                                               and not self._telling_alive(scene.id)):
            self._narrate(scene.id)

    def select_version(self, index: int) -> None:
        """Show another telling of the current scene (and the choices it offered)."""
        self.graph.select_version(self.current, index)
        self.graph.forget_states()
        self._dirty.add(self.current)
        self._arrived(self.current, new_turn=False)

    # -- polling ----------------------------------------------------------------------------
    def poll(self) -> list[SessionEvent]:
        """Apply finished work and return every event since the last poll, in order: the one
        channel from the story to its front ends (engine.events). Never blocks; call it every
        frame. Notices made by the player's actions (a save, a failed autosave) come here too."""
        if self._closed:
            return self._take_outbox()
        self.check_world()
        self._save_outcomes()
        for event in self.runner.poll():
            job = event.job
            if job.kind == "narrate":
                self._post(self._on_narration(job, event.kind, event.payload))
            elif job.kind in ("paint", "load"):
                self._post(self._on_image(job, event.kind, event.payload))
        return self._take_outbox()

    def _post(self, events: list[SessionEvent]) -> None:
        """Queue events for the next poll(); notices and errors are queued when made."""
        self._outbox.extend(event for event in events if not event.is_message)

    def _take_outbox(self) -> list[SessionEvent]:
        events = list(self._outbox)
        self._outbox.clear()
        if self._dropped:
            events.insert(0, SessionEvent(EventKind.ERROR, None, f"({self._dropped} earlier "
                                                                 f"messages were not shown.)"))
            self._dropped = 0
        return events

    def check_world(self) -> list[SessionEvent]:
        """Hot reload: pick up edits to the world's files (throttled; cheap enough per frame).
        A broken edit is reported and play goes on with the last good version."""
        if self._watcher is None:
            from engine.worlds.watch import WorldWatcher
            self._watcher = WorldWatcher(self.world)
        world, messages = self._watcher.check()
        if world is not None:
            self.world = world   # the next scene told uses it
            self._retell_prefetched()
        kind = EventKind.NOTICE if world is not None else EventKind.ERROR
        return [self._notice(kind, message) for message in messages]

    def _retell_prefetched(self) -> None:
        """After a reload, tell again the scenes prefetched from the old world but not yet seen,
        so the edit shows in the very next scene (the old telling stays as an alternative)."""
        if self.waiting:
            return
        for child in self.graph.choices(self.current):
            if child.status == READY and not child.visited and child.id not in self._narrating:
                self._narrate(child.id, PREFETCH_NARRATE, retell=False)

    def wait(self, timeout: float = 600.0, images: bool = False) -> list[SessionEvent]:
        """Block until the current scene is told, and painted if `images` (terminal, scripts).

        It sleeps on the runner (woken when a job finishes) and never spins. A current scene
        that nothing is telling (it cannot happen; if it did, it would wait for ever) is given
        a telling at once."""
        deadline = time.monotonic() + timeout
        events = self.poll()
        while (self.waiting or (images and self.current in self._painting)) \
                and time.monotonic() < deadline and not self._closed:
            if self.waiting and not self._telling_alive(self.current):
                self._narrate(self.current)
            self.runner.wait(max(0.0, min(WAIT_STEP_S, deadline - time.monotonic())))
            events += self.poll()
        return events

    # -- moving between scenes (telling them: engine.session.narration) -------------------
    def _enter(self, node: int) -> None:
        self.current = node
        self.turn += 1
        self._drop_stale_work()
        scene = self.scene(node)
        if scene.status in (STUB, FAILED):
            self._narrate(node)
        elif scene.status == GENERATING:
            if self._telling_alive(node):
                self.runner.reprioritise(self._narrating[node].job, NARRATE_CURRENT)
            else:                          # dropped as stale a moment ago: tell it afresh
                self._narrate(node)
        elif scene.status == READY:
            self._arrived(node, new_turn=True)

    def _arrived(self, node: int, new_turn: bool) -> None:
        """The player is at a told scene: mark it visited, autosave, start its picture."""
        scene = self.scene(node)
        if not scene.visited:
            scene.visited = True
            self._dirty.add(node)
        self.autosave()
        if self.painter.id != "none":
            self.request_image(node)
        self._prefetch(node)

    def _notice(self, kind: EventKind, message: str, node: int | None = None) -> SessionEvent:
        """Tell the front ends something (a NOTICE or an ERROR) at their next poll()."""
        event = SessionEvent(kind, node, message)
        if len(self._outbox) == self._outbox.maxlen:   # nobody polls: say how much was lost
            self._outbox.popleft()
            self._dropped += 1
        self._outbox.append(event)
        return event

    def close(self) -> None:
        """End everything the story started: its jobs and workers, the saver thread (after the
        autosaves reach the disk), hot reload, the pictures in memory, and its hold on the
        slot. Safe to call twice; a closed story does nothing more."""
        if self._closed:
            return
        self.runner.shutdown()
        self._saver.close()
        self._save_outcomes()
        self._closed = True
        self._watcher = None
        self._images.clear()
        if self._claim is not None:
            self._claim.release()
        give_memory_back()


__all__ = ["Session", "SessionEvent", "InlineRunner", "ThreadedRunner", "AUTOSAVE_SLOT"]
