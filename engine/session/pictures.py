"""The Session's pictures: prompts, cache keys, painting and loading jobs, decoded images.

A mixin of engine.session.core.Session, split out to keep each file readable; it uses the Session's
graph, world, painter, runner and cache and never touches the frame loop or pygame.
"""

from __future__ import annotations

from typing import Any

from engine.story.appearance import MAX_IN_PROMPT, describe
from engine.errors import DreamreelError
from engine.events import EventKind, SessionEvent
from engine.painters.imagecache import cache_key
from engine.worlds.pictures import load_world_picture, picture_version, shipped_picture
from engine.session.jobs import DONE, FAILED as JOB_FAILED, PAINT_CURRENT, PREFETCH_PAINT, Job
from engine.story.graph import READY
from engine.worlds.loading import character_name

IMAGE_MEMORY = 24        # decoded images kept in memory


class Pictures:
    """Painting for the Session (see engine.session.core)."""

    def _prefetch_image(self, node: int) -> None:
        if self.config.prefetch.images and self.painter.id != "none":
            self.request_image(node, PREFETCH_PAINT)

    def image_prompt(self, node: int | None = None) -> str:
        """The full prompt for a scene's picture, from the moddable image.j2: the scene's image
        prompt, the recorded appearance of each character present (so they look the same from
        scene to scene), the mood and the world's art style; then what the world declares for
        the scene's location (`[locations.<id>]`), so a changed declaration changes the key."""
        scene = self.scene(node)
        version = scene.current
        if version is None:
            return self.world.spec.art_style
        state = self.graph.state_after(scene.id)
        present = [{"name": character_name(self.world, c), "appearance": self.characters[c]}
                   for c in state.present if c in self.characters][:MAX_IN_PROMPT]
        context = {"scene": {"title": version.title, "image_prompt": version.image_prompt,
                             "mood": version.mood, "narration": version.narration},
                   "world": {"title": self.world.title, "art_style": self.world.spec.art_style},
                   "characters": present, "location": state.location}
        declared = self.world.location_picture(state.location)   # after the scene's own
        try:
            prompt = self._prompts.render(self.world, "image.j2", context).replace("\n", " ")
            return f"{prompt.rstrip()} {declared}" if declared else prompt
        except DreamreelError as err:
            if self._image_template_error != str(err):
                self._image_template_error = str(err)
                self._notice(EventKind.ERROR, f"{err} Using the default picture prompt.")
            parts = [self.world.spec.art_style, version.image_prompt,
                     describe(self.characters, state.present), f"{version.mood} mood", declared]
            return ", ".join(p for p in parts if p)

    def shipped_picture(self, node: int | None = None) -> str | None:
        """The world's own picture file that the scene's `image` names (e.g. images/harbor.png),
        shown instead of a painted one; None when the scene describes its picture in words."""
        version = self.scene(node).current
        return shipped_picture(self.world, version.image_prompt) if version is not None else None

    def image_key(self, node: int | None = None) -> str:
        scene = self.scene(node)
        size = (self.config.images.width, self.config.images.height)
        shipped = self.shipped_picture(scene.id)
        if shipped is not None:
            return cache_key("world", self.world.id, shipped,
                             picture_version(self.world, shipped), 0, size, 0)
        return cache_key(self.painter.id, self.painter.model, self.image_prompt(scene.id),
                         getattr(self.painter, "negative_prompt", ""), scene.current.seed, size,
                         self.painter.steps)

    def request_image(self, node: int, priority: int = PAINT_CURRENT) -> None:
        """Make sure the scene's picture is (being) painted or loaded."""
        scene = self.scene(node)
        if scene.status != READY:
            return
        if node in self._painting and not self._painting[node].cancelled:
            if priority < self._painting[node].priority:
                self.runner.reprioritise(self._painting[node], priority)
            return
        key = self.image_key(node)
        if key in self._images:
            scene.current.image_key = key
            return
        cache, painter = self.cache, self.painter
        size = (self.config.images.width, self.config.images.height)
        shipped, world = self.shipped_picture(node), self.world
        if shipped is not None:                       # the world's own picture: read, not painted
            self._painting[node] = self.runner.submit(
                lambda job: (key, load_world_picture(world, shipped, size)), priority, "paint",
                key=node)
            return
        prompt, seed = self.image_prompt(node), scene.current.seed

        def work(job: Job):
            image = cache.get(key)
            if image is None:
                image = painter.paint(prompt, seed, size,
                                      on_progress=lambda f: job.emit("progress", f))
                cache.put(key, image)
            return key, image

        self._painting[node] = self.runner.submit(work, priority, "paint", key=node)

    def image(self, node: int | None = None):
        """The scene's picture if it is in memory (a PIL image), else None. Reading changes
        nothing: the current scene's picture is requested when the player arrives there, and
        a front end that shows another scene's picture asks for it with request_image(), then
        gets an IMAGE event when it is ready."""
        node = self.current if node is None else node
        scene = self.scene(node)
        if scene.current is None or self.painter.id == "none":
            return None
        key = scene.current.image_key
        return self._images.get(key) if key else None

    def _on_image(self, job: Job, kind: str, payload: Any) -> list[SessionEvent]:
        node = job.key
        if kind == "requeued":
            self.progress.pop(node, None)
            return []
        if kind == "progress":
            self.progress[node] = float(payload)
            return [SessionEvent(EventKind.PROGRESS, node, payload)]
        if self._painting.get(node) is job:
            del self._painting[node]
        self.progress.pop(node, None)
        if kind == JOB_FAILED:
            return [self._notice(EventKind.ERROR, f"The painter failed: {payload}", node)]
        if kind != DONE or node not in self.graph:
            return []
        key, image = payload
        self._images[key] = image
        while len(self._images) > IMAGE_MEMORY:
            self._images.popitem(last=False)
        version = self.scene(node).current
        if version is not None and version.image_key != key:
            version.image_key = key
            self._dirty.add(node)
        return [SessionEvent(EventKind.IMAGE, node, key)]

