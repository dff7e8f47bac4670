"""The Session's narration: memory for the narrator, telling scenes, prefetch, applying drafts.

A part of engine.session.core.Session, holding its own state. It builds each
NarrationRequest (recent scenes, a cached rolling summary, the action), runs the narrator on the
Session's job runner, applies finished drafts to the story graph on the caller's thread (a
language model's effects checked against the world first: engine.story.effects_check), times each
telling, and tells the scenes behind the visible choices ahead of time, as many as the
narrator's speed allows. A world's authored opening is told by the storylet narrator whatever
narrator tells the rest. check_invariants() says whether the scene states agree with the jobs
telling them (a scene is 'generating' only while a job tells it). It never touches pygame or a
model directly; narrators do that on worker threads.
"""

from __future__ import annotations

import weakref
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from time import monotonic
from typing import Any, NamedTuple

from engine.story.appearance import record_new
from engine.story.effects_check import check_effects, world_terms
from engine.errors import DreamreelError, NarratorError
from engine.events import EventKind, SessionEvent
from engine.story.graph import FAILED, GENERATING, READY, STUB, Scene, Version
from engine.session.jobs import (CANCELLED, FAILED as JOB_FAILED, NARRATE_CURRENT,
                         PREFETCH_NARRATE, Job)
from engine.story.memory import rolling_summary
from engine.narrators import Action, NarrationRequest
from engine.story.memory import RecentScene
from engine.narrators.storylets import StoryletNarrator
from engine.story.schema import SceneDraft
from engine.story.seeds import derive_seed

RECENT_SCENES = 6        # scenes given to narrators verbatim (6 to 13, see _memory)
SUMMARY_SCENES = 48      # older scenes folded into the rolling summary
SUMMARY_STEP = 8         # the summary's window moves this many scenes at a time
PREFETCH_BUDGET_SECONDS = 10.0   # narrator time spent ahead per scene on a CPU or a server
INTENT_MEMORY = 40       # scenes of the path whose intents predict the next choice
TIMINGS_KEPT = 200       # narration timings remembered (the newest scenes)
LANGUAGE_MODELS = frozenset({"transformers", "openai"})   # narrators that write freely


def tells_authored_opening(narrator) -> bool:
    """Whether a world's authored opening is told instead of this narrator's own.

    Language models (transformers, openai) write freely: asked for an opening with nothing
    before it, a small one invents a generic scene or copies its prompt. The world's start
    storylet is what its author meant the player to see first, so it is told instead. A
    narrator may decide for itself with an `authored_opening` attribute.
    """
    return bool(getattr(narrator, "authored_opening", narrator.id in LANGUAGE_MODELS))


def prefetch_breadth(narrator, upper: int, scene_seconds: float | None) -> int:
    """How many of a scene's visible choices to tell ahead while the player reads.

    The choice the player takes preempts prefetch at once (engine.session.jobs), so telling ahead
    never delays it; but each prefetched scene the player does not take was work for nothing,
    and on a CPU that work heats the machine and slows everything else on it. So:

    - the storylet narrator is instant: `upper` (the config's [prefetch] breadth);
    - a model on a GPU (the narrator's `_device` is cuda or mps): `upper`;
    - a model on the CPU, a server (openai) and anything else: what its measured speed
      allows, as many scenes as fit in PREFETCH_BUDGET_SECONDS at the pace of its last scene
      (2 s a scene: 4; 5 s: 2; slower: 1), and only the likeliest choice until one is timed.

    Args:
        narrator: the narrator that will tell the scenes ahead.
        upper: the most to tell ([prefetch] breadth).
        scene_seconds: how long this narrator's last scene took, None when not yet measured.
    """
    if upper <= 0:
        return 0
    if narrator.id == "storylets":
        return upper
    device = str(getattr(narrator, "_device", "") or "")
    if device and not device.startswith("cpu"):
        return upper
    if scene_seconds is None:
        return 1
    return max(1, min(upper, int(PREFETCH_BUDGET_SECONDS // max(scene_seconds, 1e-3))))


def likeliest_first(choices: list[Scene], intents: Counter) -> list[Scene]:
    """Choices ordered by how likely the player takes them: those whose intent the player
    chose most often so far first; ties (and a player with no history) keep the order shown,
    where the main thread usually comes first. Deterministic."""
    return sorted(choices, key=lambda choice: -intents.get(choice.intent, 0))


@dataclass(frozen=True)
class NarrationTiming:
    """When a scene's telling was asked for, when its first word arrived and when it finished:
    time.monotonic() seconds, noted by the Session as the narrator's events arrive."""

    requested_at: float
    first_word_at: float | None = None
    finished_at: float | None = None

    @property
    def first_word_s(self) -> float | None:
        """Seconds from the request to the first word (None: no word yet)."""
        if self.first_word_at is None:
            return None
        return max(0.0, self.first_word_at - self.requested_at)

    def scene_s(self, now: float | None = None) -> float:
        """Seconds the telling took, or has taken so far at `now`."""
        end = self.finished_at if self.finished_at is not None else (
            monotonic() if now is None else now)
        return max(0.0, end - self.requested_at)

    def describe(self, now: float | None = None) -> str:
        """For a status line: 'first word 1.2 s · 6.3 s', or '0.8 s' before the first word."""
        total = f"{self.scene_s(now):.1f} s"
        first = self.first_word_s
        return total if first is None else f"first word {first:.1f} s · {total}"


class Telling(NamedTuple):
    """A scene being told: its job, the seed and request it was given, and who tells it."""

    job: Job
    seed: int
    request: NarrationRequest
    narrator: Any


class Narration:
    """Telling scenes for a Session: its part that owns the tellings in flight, the streamed
    text, the timings and the prompts kept for the inspector."""

    def __init__(self, session):
        self.session = weakref.proxy(session)   # no cycle: a dropped story is freed at once
        self.tellings: dict[int, Telling] = {}      # scenes being told, by node
        self.streams: dict[int, str] = {}           # text streamed so far per scene being told
        self.timings: OrderedDict[int, NarrationTiming] = OrderedDict()   # see timing()
        self.prompts: OrderedDict[int, dict] = OrderedDict()   # prompt inspector, last 200
        self.scene_seconds: float | None = None     # the narrator's last scene, for prefetch
        self._summaries: OrderedDict[tuple, str] = OrderedDict()   # rolling summaries by window
        self._authored = None                       # tells a world's authored opening
        self._terms = None                          # (world, its WorldTerms) for effects checks

    def telling_alive(self, node: int) -> bool:
        """Whether a job is telling this scene and has not been cancelled."""
        telling = self.tellings.get(node)
        return telling is not None and not telling.job.cancelled

    def check_invariants(self) -> list[str]:
        """What is wrong between the story's scene states and the jobs running (empty: all is
        well). Tests call it after every step; it reads everything (O(scenes)), so the game
        does not. The rules: a scene is 'generating' exactly while a telling of it is in hand
        and its job is queued, running, or finished with its result not yet applied; and the
        current scene, when it waits, is being told."""
        problems = []
        pending = {id(job) for job in self.session.runner.pending()}
        for scene in self.session.graph.scenes():
            telling = self.tellings.get(scene.id)
            if scene.status == GENERATING and telling is None:
                problems.append(f"scene {scene.id} is generating, but nothing tells it")
        for node, telling in self.tellings.items():
            if node not in self.session.graph:
                problems.append(f"a telling of scene {node}, which is not in the story")
                continue
            if self.session.graph.scene(node).status != GENERATING:
                problems.append(f"scene {node} is {self.session.graph.scene(node).status} while told")
            job = telling.job
            if id(job) not in pending and not job.finished:
                problems.append(f"the job telling scene {node} is lost ({job.status})")
        if self.session.waiting and self.session.current not in self.tellings:
            problems.append(f"the current scene {self.session.current} waits, but nothing tells it")
        for node, job in self.session.pictures.painting.items():
            if id(job) not in pending and not job.finished:
                problems.append(f"the job painting scene {node} is lost ({job.status})")
        return problems

    # -- prefetch ---------------------------------------------------------------------------
    def ahead(self, node: int) -> int | None:
        """How many steps ahead of the current scene node lies (None: not ahead of it)."""
        steps = 0
        while node is not None and steps <= 3:
            if node == self.session.current:
                return steps
            node = self.session.scene(node).parent
            steps += 1
        return None

    def drop_stale_work(self) -> None:
        """Cancel tellings that the player's move made pointless (too far off the path)."""
        depth = self.session.config.prefetch.depth
        for node, telling in list(self.tellings.items()):
            ahead = self.ahead(node)
            if ahead is None or ahead > depth:
                telling.job.cancel()

    def cancel_all(self) -> None:
        """Cancel every telling (the narrator is replaced); prefetch waits for the new
        narrator's own pace."""
        for telling in list(self.tellings.values()):
            telling.job.cancel()
        self.scene_seconds = None

    def retell_ahead(self) -> None:
        """Tell again the scenes behind the current one that were told ahead but not yet seen
        (after the world or the player model changed), so the change shows in the very next
        scene; the old telling stays as an alternative. Tellings ahead still running are
        cancelled, and told afresh when needed."""
        session = self.session
        if session.waiting:
            return
        for node, telling in list(self.tellings.items()):
            if node != session.current:
                telling.job.cancel()
        for child in session.graph.choices(session.current):
            if child.status == READY and not child.visited and child.id not in self.tellings:
                self.narrate(child.id, PREFETCH_NARRATE, retell=False)

    def prompt_for(self, node: int) -> dict | None:
        """The prompt a narrator was given for a scene, also while it is being told."""
        entry = self.tellings.get(node)
        if entry is not None and "prompt" in entry.request.extras:
            return entry.request.extras
        return self.prompts.get(node)

    def prefetch(self, node: int) -> None:
        """Narrate (and paint) the scenes behind node's visible choices while the player reads:
        the likeliest first, as many as the narrator's speed allows (prefetch_breadth)."""
        settings = self.session.config.prefetch
        ahead = self.ahead(node)
        if not settings.enabled or ahead is None or ahead >= settings.depth:
            return
        breadth = prefetch_breadth(self.session.narrator, settings.breadth, self.scene_seconds)
        if breadth <= 0:
            return
        intents = Counter(s.intent for s in self.session.graph.recent(node, INTENT_MEMORY)
                          if s.parent is not None)
        for child in likeliest_first(self.session.graph.choices(node), intents)[:breadth]:
            if child.status == STUB:
                self.narrate(child.id, PREFETCH_NARRATE)
            elif child.status == READY:
                self.session.pictures.prefetch(child.id)
                self.prefetch(child.id)

    def _memory(self, parent: int | None) -> tuple[tuple[RecentScene, ...], str]:
        """The recent scenes verbatim and a rolling summary of the ones before them.

        The summary covers up to SUMMARY_SCENES scenes ending at a boundary that moves only every
        SUMMARY_STEP scenes, so the prompt's stable prefix (and a narrator's KV cache of it)
        stays the same for several turns. Cost is bounded, whatever the story's length."""
        if parent is None:
            return (), ""
        depth = self.session.graph.state_after(parent).depth
        boundary = max(0, depth - RECENT_SCENES)
        boundary -= boundary % SUMMARY_STEP
        recent_count = max(1, depth - boundary)
        scenes = self.session.graph.recent(parent, recent_count + SUMMARY_SCENES)
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

    def request(self, node: int, seed: int, avoid: bool = True) -> NarrationRequest:
        scene = self.session.scene(node)
        recent, summary = self._memory(scene.parent)
        action = Action(label=scene.label, intent=scene.intent, goto=scene.goto,
                        free_text=scene.free_text, opening=scene.parent is None)
        told = tuple(v.source for v in scene.versions if v.source) if avoid else ()
        return NarrationRequest(world=self.session.world, state=self.session.graph.state_before(node),
                                action=action, seed=seed, node=node, recent=recent,
                                summary=summary, author_note=self.session.author_note,
                                player_model=self._player(scene),
                                player=self.session.player(),
                                extras={"avoid_sources": told} if told else {})

    def _player(self, scene: Scene):
        """What the game believed about the player when they took the action that leads to
        scene: the profile at its parent (so a scene told ahead and one told on arrival are
        told alike). None while the player model is off."""
        if not self.session.reads_player:
            return None
        if scene.parent is None:
            from engine.story.player_model import EMPTY
            return EMPTY
        return self.session.player_profile(scene.parent)

    def _teller(self, scene: Scene):
        """Who tells a scene: the chosen narrator, except for a story's first telling of its
        opening when the world names a start storylet and the narrator is a language model
        (tells_authored_opening): then the storylet narrator tells the world's own opening,
        and the version records it as the author. A retelling of the opening (regenerate)
        uses the chosen narrator: a player who asks for another telling expects other words,
        which the storylet narrator cannot give (its opening is fixed); the authored telling
        stays as version 1."""
        world = self.session.world
        if scene.parent is None and not scene.versions and world.start in world.storylets \
                and tells_authored_opening(self.session.narrator):
            if self._authored is None:
                self._authored = StoryletNarrator()
            return self._authored
        return self.session.narrator

    def narrate(self, node: int, priority: int = NARRATE_CURRENT, retell: bool = True) -> Job:
        """Start telling a scene. A scene already told gets a new version: a retelling (which
        avoids repeating what was told) unless `retell` is False (the world itself changed)."""
        scene = self.session.scene(node)
        seed = scene.seed if not scene.versions else derive_seed(scene.seed, "version",
                                                                 len(scene.versions))
        request = self.request(node, seed, avoid=retell)
        narrator = self._teller(scene)

        def work(job: Job) -> SceneDraft:
            began = monotonic()
            draft = narrator.narrate(request, on_token=lambda text: job.emit("token", text))
            request.extras["narrate_seconds"] = round(monotonic() - began, 4)
            return draft

        scene.status = GENERATING
        self.streams[node] = ""
        self.timings[node] = NarrationTiming(requested_at=monotonic())
        self.timings.move_to_end(node)
        while len(self.timings) > TIMINGS_KEPT:
            self.timings.popitem(last=False)
        job = self.session.runner.submit(work, priority, "narrate", key=node)
        self.tellings[node] = Telling(job, seed, request, narrator)
        return job

    def timing(self, node: int | None = None) -> NarrationTiming | None:
        """How long a scene's telling took: the time to its first word and in all, also while
        it is being told (e.g. for a status line). None for a scene not told in this session.
        Reading it changes nothing."""
        return self.timings.get(self.session.current if node is None else node)

    def _timed(self, node: int, **changes: float | None) -> None:
        timing = self.timings.get(node)
        if timing is not None:
            self.timings[node] = replace(timing, **changes)

    def on_job_event(self, job: Job, kind: str, payload: Any) -> list[SessionEvent]:
        node = job.key
        entry = self.tellings.get(node)
        if entry is None or entry.job is not job or node not in self.session.graph:
            return []  # a job that was replaced or cancelled and superseded
        if kind == "token":
            if not payload:
                return []   # a yield point with no text (LLM narrators emit these)
            timing = self.timings.get(node)
            if timing is not None and timing.first_word_at is None \
                    and any(ch.isalnum() for ch in payload):
                self._timed(node, first_word_at=monotonic())
            self.streams[node] = self.streams.get(node, "") + payload
            return [SessionEvent(EventKind.TOKEN, node, payload)]
        if kind == "requeued":       # stopped for urgent work; it will run again from the start
            self.streams[node] = ""
            self._timed(node, first_word_at=None)
            return []
        del self.tellings[node]
        seed, request = entry.seed, entry.request
        scene = self.session.scene(node)
        self.streams.pop(node, None)
        self._timed(node, finished_at=monotonic())
        if kind == CANCELLED:
            self._keep_prompt(node, request)
            scene.status = READY if scene.versions else STUB
            if node == self.session.current and scene.status == STUB:
                self.narrate(node)       # the player came back to it meanwhile
            return []
        if kind == JOB_FAILED:
            self._keep_prompt(node, request)
            return [self._fail(scene, payload)]
        try:
            draft = payload if isinstance(payload, SceneDraft) else SceneDraft.model_validate(payload)
        except Exception as err:  # a backend handed back something that is not a scene
            self._keep_prompt(node, request)
            return [self._fail(scene, NarratorError(f"unusable scene from the narrator: {err}"))]
        if entry.narrator is self.session.narrator and "narrate_seconds" in request.extras:
            self.scene_seconds = request.extras["narrate_seconds"]
        draft = self._checked(scene, draft, entry.narrator, request)
        self._keep_prompt(node, request)
        self._apply(scene, draft, seed, entry.narrator)
        if node == self.session.current:
            self.session._arrived(node)
            return [SessionEvent(EventKind.SCENE, node)]
        self.session.pictures.prefetch(node)
        self.prefetch(node)
        return [SessionEvent(EventKind.PREFETCHED, node)]

    def _keep_prompt(self, node: int, request: NarrationRequest) -> None:
        """Keep what a narrator with prompts was given, for the prompt inspector."""
        if "prompt" in request.extras:
            self.prompts[node] = dict(request.extras)
            while len(self.prompts) > 200:
                self.prompts.popitem(last=False)

    def _checked(self, scene: Scene, draft: SceneDraft, narrator,
                 request: NarrationRequest) -> SceneDraft:
        """The draft with its effects made to fit the world (engine.story.effects_check), unless the
        storylet narrator wrote it: authored effects are trusted. What was dropped is noted in
        the request's extras (the prompt inspector shows them)."""
        if isinstance(narrator, StoryletNarrator) or draft.effects.is_empty():
            return draft
        if self._terms is None or self._terms[0] is not self.session.world:
            self._terms = (self.session.world, world_terms(self.session.world))
        effects, notes = check_effects(draft.effects, self.session.world,
                                       self.session.graph.state_before(scene.id), self._terms[1])
        if notes:
            request.extras["effects_dropped"] = notes
        return draft.model_copy(update={"effects": effects})

    def _apply(self, scene: Scene, draft: SceneDraft, seed: int, narrator) -> None:
        author = f"{narrator.id}:{narrator.model}"
        self.session.graph.add_version(scene.id, Version.from_draft(draft, author=author, seed=seed))
        self.session.saving.mark(scene.id)
        record_new(self.session.characters, self.session.world, self.session.graph.state_after(scene.id).present,
                   self.session.seed)
        for index, choice in enumerate(draft.choices):
            child = self.session.graph.add_child(scene.id, choice.label, choice.intent,
                                         seed=derive_seed(seed, "choice", index),
                                         goto=choice.goto or "")
            self.session.saving.mark(child.id)

    def _fail(self, scene: Scene, err: BaseException) -> SessionEvent:
        reason = str(err) if isinstance(err, DreamreelError) else f"{type(err).__name__}: {err}"
        scene.status = READY if scene.versions else FAILED
        scene.error = reason
        self.session.saving.mark(scene.id)
        return self.session._notice(EventKind.ERROR, f"The narrator failed: {reason}", scene.id)
