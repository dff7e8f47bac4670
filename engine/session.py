"""The Session: the one front door to a running story (like ink's Story object).

The pygame game, the terminal mode, the exporters and the benchmarks all drive a Session: it owns
the story graph, the play state (current scene, turn, seed), the narrator and painter, the job
runner, the saves and the image cache. Front ends call its actions (choose, act, back, jump,
regenerate, save) and poll() it every frame; slow work runs on the runner and its results are
applied here, on the caller's thread. Nothing reaches around it. No pygame, no torch.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from typing import Any

from engine.appearance import record_new
from engine.config import Config
from engine.errors import DreamreelError, NarratorError, SaveError
from engine.events import SessionEvent
from engine.graph import FAILED, GENERATING, READY, STUB, Scene, StoryGraph, Version
from engine.imagecache import ImageCache
from engine.jobs import (CANCELLED, FAILED as JOB_FAILED, NARRATE_CURRENT, PAINT_CURRENT,
                         PREFETCH_NARRATE, InlineRunner, Job, ThreadedRunner)
from engine.memory import rolling_summary
from engine.narrators import Action, NarrationRequest, RecentScene, make_narrator
from engine.narrators.prompting import PromptBuilder
from engine.narrators.storylets import infer_intent
from engine.painters import painter_from_config
from engine.saves import Saver, SaveStore, check_name
from engine.schema import SceneDraft
from engine.seeds import derive_seed, fresh_seed
from engine.session_pictures import Pictures
from engine.session_saving import Saving
from engine.snapshot import from_snapshot
from engine.state import WorldState
from engine.worlds import World, load_world

RECENT_SCENES = 6        # scenes given to narrators verbatim (6 to 13, see _memory)
SUMMARY_SCENES = 48      # older scenes folded into the rolling summary
SUMMARY_STEP = 8         # the summary's window moves this many scenes at a time
MAX_ACTION_CHARS = 300   # a typed action is cut to this length
AUTOSAVE_SLOT = "autosave"


class Session(Pictures, Saving):
    """A story being played. Create with Session.new() or Session.resume()."""

    def __init__(self, config: Config, world: World, narrator, painter, runner=None,
                 seed: int | None = None, slot: str = AUTOSAVE_SLOT):
        self.config = config
        self.world = world
        self.narrator = narrator
        self.painter = painter
        self.runner = runner or ThreadedRunner()
        self.store = SaveStore(config.saves_dir)
        self.cache = ImageCache(config.saves_dir / "cache", max_bytes=config.images.cache_mb << 20)
        self.seed = seed if seed else fresh_seed()
        self.slot = check_name(slot)
        self.graph = StoryGraph(world.initial_state())
        self.current: int = 0
        self.turn = 0
        self.author_note = config.game.author_note
        self.events: deque[SessionEvent] = deque(maxlen=200)   # recent notices and errors
        self.streams: dict[int, str] = {}       # text streamed so far for scenes being narrated
        self.progress: dict[int, float] = {}    # painting progress per scene
        self.prompts: OrderedDict[int, dict] = OrderedDict()  # prompt inspector, last 200
        self._narrating: dict[int, tuple[Job, int, NarrationRequest]] = {}
        self._painting: dict[int, Job] = {}
        self._images: OrderedDict[str, Any] = OrderedDict()
        self._dirty: set[int] = set()
        self._slot_has_snapshot = False
        self._journal_lines = 0   # autosaves appended since the slot's last full snapshot
        self.characters: dict[str, str] = {}   # appearance records, kept with the story
        self._watcher = None                     # hot reload of the world's files
        self._saver = Saver()                    # autosaves are written off the caller's thread
        self._prompts = PromptBuilder()          # renders the moddable image.j2
        self._summaries: OrderedDict[tuple, str] = OrderedDict()   # rolling summaries by window
        self._image_template_error = ""

    # -- creating ---------------------------------------------------------------------------
    @classmethod
    def new(cls, config: Config, *, world: World | None = None, narrator=None, painter=None,
            runner=None, seed: int | None = None, slot: str = AUTOSAVE_SLOT) -> "Session":
        """Start a new story: the opening scene is narrated at once (poll to receive it)."""
        world = world or load_world(config.game.world, config.worlds_dir)
        narrator = narrator or make_narrator(config.game.narrator)
        painter = painter or painter_from_config(config)
        session = cls(config, world, narrator, painter, runner,
                      seed=seed or config.game.seed or None, slot=slot)
        root = session.graph.add_root(seed=derive_seed(session.seed, "root"))
        session.current = root.id
        session._dirty.add(root.id)
        session._narrate(root.id)
        return session

    @classmethod
    def resume(cls, config: Config, name: str | None = None, *, narrator=None, painter=None,
               runner=None, slot: str = AUTOSAVE_SLOT) -> "Session":
        """Load a slot (default: the newest) and go on from where it stopped."""
        store = SaveStore(config.saves_dir)
        name = name or store.latest()
        if name is None:
            raise SaveError(f"No saved story in {store.slots_dir} to continue. Start a new game.")
        loaded = store.read(name)
        session = from_snapshot(cls, config, loaded.snapshot, f"{store.slot_dir(name)}",
                                narrator=narrator, painter=painter, runner=runner, slot=slot)
        for warning in loaded.warnings:
            session._notice("error", warning)
        if name == session.slot and not loaded.warnings:
            session._slot_has_snapshot = True
            session._journal_lines = loaded.journal_lines
        scene = session.scene()
        if scene.status in (STUB, GENERATING, FAILED):
            scene.status = STUB
            session._narrate(scene.id)
        return session

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
        if entry is not None and "prompt" in entry[2].extras:
            return entry[2].extras
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
        """Tell the current scene again; the old telling stays as an alternative version."""
        scene = self.scene()
        if scene.status == GENERATING:
            return
        self._narrate(scene.id)

    def switch_narrator(self, spec: str) -> None:
        """Tell the story from now on with another narrator (e.g. 'storylets' after a model
        failed to load). Raises NarratorError for a bad spec; the story so far is kept."""
        narrator = make_narrator(spec)
        for job, _, _ in list(self._narrating.values()):
            job.cancel()
        self.narrator = narrator
        self._notice("notice", f"The {narrator.id} narrator tells the story from here.")
        scene = self.scene()
        if scene.status in (STUB, FAILED) or (scene.status == GENERATING and scene.id not in self._narrating):
            self._narrate(scene.id)

    def select_version(self, index: int) -> None:
        """Show another telling of the current scene (and the choices it offered)."""
        self.graph.select_version(self.current, index)
        self.graph.forget_states()
        self._dirty.add(self.current)
        self._arrived(self.current, new_turn=False)

    # -- polling ----------------------------------------------------------------------------
    def poll(self) -> list[SessionEvent]:
        """Apply finished work and return what changed. Never blocks; call it every frame."""
        out: list[SessionEvent] = self.check_world() + self._save_failures()
        for event in self.runner.poll():
            job = event.job
            if job.kind == "narrate":
                out += self._on_narration(job, event.kind, event.payload)
            elif job.kind in ("paint", "load"):
                out += self._on_image(job, event.kind, event.payload)
        return out

    def check_world(self) -> list[SessionEvent]:
        """Hot reload: pick up edits to the world's files (throttled; cheap enough per frame).
        A broken edit is reported and play goes on with the last good version."""
        if self._watcher is None:
            from engine.watch import WorldWatcher
            self._watcher = WorldWatcher(self.world)
        world, messages = self._watcher.check()
        if world is not None:
            self.world = world   # the next scene told uses it
            self._retell_prefetched()
        kind = "notice" if world is not None else "error"
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
        """Block until the current scene is told, and painted if `images` (terminal, scripts)."""
        deadline = time.monotonic() + timeout
        events = self.poll()
        while (self.waiting or (images and self.current in self._painting)) \
                and time.monotonic() < deadline:
            self.runner.wait(0.05)
            events += self.poll()
        return events

    # -- narration --------------------------------------------------------------------------
    def _enter(self, node: int) -> None:
        self.current = node
        self.turn += 1
        self._drop_stale_work()
        scene = self.scene(node)
        if scene.status in (STUB, FAILED):
            self._narrate(node)
        elif scene.status == GENERATING and node in self._narrating:
            job = self._narrating[node][0]
            if job.cancelled:              # dropped as stale a moment ago: tell it afresh
                self._narrate(node)
            else:
                self.runner.reprioritise(job, NARRATE_CURRENT)
        elif scene.status == READY:
            self._arrived(node, new_turn=True)

    # -- prefetch ---------------------------------------------------------------------------
    def _ahead(self, node: int) -> int | None:
        """How many steps ahead of the current scene node lies (None: not ahead of it)."""
        steps = 0
        while node is not None and steps <= 3:
            if node == self.current:
                return steps
            node = self.scene(node).parent
            steps += 1
        return None

    def _drop_stale_work(self) -> None:
        """Cancel prefetch that the player's move made pointless; promote what is now current."""
        depth = self.config.prefetch.depth
        for node, (job, _, _) in list(self._narrating.items()):
            ahead = self._ahead(node)
            if ahead is None or ahead > depth:
                job.cancel()
        for node, job in list(self._painting.items()):
            ahead = self._ahead(node)
            if ahead is None or ahead > depth:
                job.cancel()
            elif ahead == 0:
                self.runner.reprioritise(job, PAINT_CURRENT)

    def _prefetch(self, node: int) -> None:
        """Narrate (and paint) the scenes behind node's visible choices while the player reads."""
        settings = self.config.prefetch
        ahead = self._ahead(node)
        if not settings.enabled or ahead is None or ahead >= settings.depth:
            return
        for child in self.graph.choices(node)[: settings.breadth]:
            if child.status == STUB:
                self._narrate(child.id, PREFETCH_NARRATE)
            elif child.status == READY:
                self._prefetch_image(child.id)
                self._prefetch(child.id)

    def _memory(self, parent: int | None) -> tuple[tuple[RecentScene, ...], str]:
        """The recent scenes verbatim and a rolling summary of the ones before them.

        The summary covers up to SUMMARY_SCENES scenes ending at a boundary that moves only every
        SUMMARY_STEP scenes, so the prompt's stable prefix (and a narrator's KV cache of it)
        stays the same for several turns. Cost is bounded, whatever the story's length."""
        if parent is None:
            return (), ""
        depth = self.graph.state_after(parent).depth
        boundary = max(0, depth - RECENT_SCENES)
        boundary -= boundary % SUMMARY_STEP
        recent_count = max(1, depth - boundary)
        scenes = self.graph.recent(parent, recent_count + SUMMARY_SCENES)
        recent = tuple(self._as_recent(s) for s in scenes[-recent_count:])
        older = scenes[:-recent_count]
        if not older:
            return recent, ""
        key = tuple((s.id, s.active) for s in older)   # same window, same summary: reuse it
        summary = self._summaries.get(key)
        if summary is None:
            summary = rolling_summary([self._as_recent(s) for s in older])
            self._summaries[key] = summary
            while len(self._summaries) > 64:
                self._summaries.popitem(last=False)
        return recent, summary

    @staticmethod
    def _as_recent(scene: Scene) -> RecentScene:
        return RecentScene(scene.title, scene.current.narration, scene.label, scene.current.source)

    def _request(self, node: int, seed: int, avoid: bool = True) -> NarrationRequest:
        scene = self.scene(node)
        recent, summary = self._memory(scene.parent)
        action = Action(label=scene.label, intent=scene.intent, goto=scene.goto,
                        free_text=scene.free_text, opening=scene.parent is None)
        told = tuple(v.source for v in scene.versions if v.source) if avoid else ()
        return NarrationRequest(world=self.world, state=self.graph.state_before(node),
                                action=action, seed=seed, node=node, recent=recent,
                                summary=summary, author_note=self.author_note,
                                extras={"avoid_sources": told} if told else {})

    def _narrate(self, node: int, priority: int = NARRATE_CURRENT, retell: bool = True) -> Job:
        """Start telling a scene. A scene already told gets a new version: a retelling (which
        avoids repeating what was told) unless `retell` is False (the world itself changed)."""
        scene = self.scene(node)
        seed = scene.seed if not scene.versions else derive_seed(scene.seed, "version",
                                                                 len(scene.versions))
        request = self._request(node, seed, avoid=retell)
        narrator = self.narrator

        def work(job: Job) -> SceneDraft:
            return narrator.narrate(request, on_token=lambda text: job.emit("token", text))

        scene.status = GENERATING
        self.streams[node] = ""
        job = self.runner.submit(work, priority, "narrate", key=node)
        self._narrating[node] = (job, seed, request)
        return job

    def _on_narration(self, job: Job, kind: str, payload: Any) -> list[SessionEvent]:
        node = job.key
        entry = self._narrating.get(node)
        if entry is None or entry[0] is not job or node not in self.graph:
            return []  # a job that was replaced or cancelled and superseded
        if kind == "token":
            if not payload:
                return []   # a yield point with no text (LLM narrators emit these)
            self.streams[node] = self.streams.get(node, "") + payload
            return [SessionEvent("token", node, payload)]
        if kind == "requeued":       # stopped for urgent work; it will run again from the start
            self.streams[node] = ""
            return []
        del self._narrating[node]
        _, seed, request = entry
        scene = self.scene(node)
        self.streams.pop(node, None)
        if "prompt" in request.extras:
            self.prompts[node] = dict(request.extras)
            while len(self.prompts) > 200:
                self.prompts.popitem(last=False)
        if kind == CANCELLED:
            scene.status = READY if scene.versions else STUB
            if node == self.current and scene.status == STUB:
                self._narrate(node)       # the player came back to it meanwhile
            return []
        if kind == JOB_FAILED:
            return [self._fail(scene, payload)]
        try:
            draft = payload if isinstance(payload, SceneDraft) else SceneDraft.model_validate(payload)
        except Exception as err:  # a backend handed back something that is not a scene
            return [self._fail(scene, NarratorError(f"unusable scene from the narrator: {err}"))]
        self._apply(scene, draft, seed)
        if node == self.current:
            self._arrived(node, new_turn=False)
            return [SessionEvent("scene", node)]
        self._prefetch_image(node)
        self._prefetch(node)
        return [SessionEvent("prefetched", node)]

    def _apply(self, scene: Scene, draft: SceneDraft, seed: int) -> None:
        author = f"{self.narrator.id}:{self.narrator.model}"
        self.graph.add_version(scene.id, Version.from_draft(draft, author=author, seed=seed))
        self._dirty.add(scene.id)
        record_new(self.characters, self.world, self.graph.state_after(scene.id).present,
                   self.seed)
        for index, choice in enumerate(draft.choices):
            child = self.graph.add_child(scene.id, choice.label, choice.intent,
                                         seed=derive_seed(seed, "choice", index),
                                         goto=choice.goto or "")
            self._dirty.add(child.id)

    def _fail(self, scene: Scene, err: BaseException) -> SessionEvent:
        reason = str(err) if isinstance(err, DreamreelError) else f"{type(err).__name__}: {err}"
        scene.status = READY if scene.versions else FAILED
        scene.error = reason
        self._dirty.add(scene.id)
        return self._notice("error", f"The narrator failed: {reason}", scene.id)

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

    def _notice(self, kind: str, message: str, node: int | None = None) -> SessionEvent:
        event = SessionEvent(kind, node, message)
        self.events.append(event)
        return event

    def close(self) -> None:
        """Stop background work and wait for the autosaves to reach the disk."""
        self.runner.shutdown()
        self._saver.flush()


__all__ = ["Session", "SessionEvent", "InlineRunner", "ThreadedRunner", "AUTOSAVE_SLOT"]
