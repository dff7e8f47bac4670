"""The Session's narration: memory for the narrator, telling scenes, prefetch, applying drafts.

A mixin of engine.session.Session, split out to keep each file readable. It builds each
NarrationRequest (recent scenes, a cached rolling summary, the action), runs the narrator on the
Session's job runner, applies finished drafts to the story graph on the caller's thread, and
tells the scenes behind the visible choices ahead of time. It never touches pygame or a model
directly; narrators do that on worker threads.
"""

from __future__ import annotations

from typing import Any

from engine.appearance import record_new
from engine.errors import DreamreelError, NarratorError
from engine.events import SessionEvent
from engine.graph import FAILED, GENERATING, READY, STUB, Scene, Version
from engine.jobs import (CANCELLED, FAILED as JOB_FAILED, NARRATE_CURRENT, PAINT_CURRENT,
                         PREFETCH_NARRATE, Job)
from engine.memory import rolling_summary
from engine.narrators import Action, NarrationRequest, RecentScene
from engine.schema import SceneDraft
from engine.seeds import derive_seed

RECENT_SCENES = 6        # scenes given to narrators verbatim (6 to 13, see _memory)
SUMMARY_SCENES = 48      # older scenes folded into the rolling summary
SUMMARY_STEP = 8         # the summary's window moves this many scenes at a time


class Narration:
    """Telling scenes for the Session (see engine.session)."""

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
