"""The Session's pictures: prompts, cache keys, painting and loading jobs, decoded images.

A part of engine.session.core.Session, holding its own state; it reads the story through the
Session (graph, world, painter, runner) and never touches the frame loop or pygame.

When the painter fails with a PainterError (a dead image server, a missing model), the scene
shows the procedural painter's picture instead, kept under the procedural painter's own cache
key (never the failed painter's, so the scene is painted properly once the painter works
again: the next visit asks it again). The player is told once, not once a scene; while the
painter is down, prefetched scenes go straight to the stand-in.

The player's portrait goes only to a painter that declares it can take one
(engine.painters.takes_portrait: the diffusers painter; never one that talks to a server),
and only for a scene that shows the player (engine.story.persona.in_frame). When the painter
will use it (it names adapter settings in `likeness_key`), the cache key's model field carries
the portrait's hash and those settings; other keys are as they always were. A painter that
paints from the text look only says why once.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any, NamedTuple

from engine.story.appearance import describe
from engine.story.persona import in_frame
from engine.errors import DreamreelError, PainterError
from engine.events import EventKind, SessionEvent
from engine.narrators.prompting import PromptBuilder
from engine.painters import NOTICE_KEY, takes_portrait
from engine.painters.imagecache import ImageCache, cache_key
from engine.worlds.pictures import load_world_picture, picture_version, shipped_picture
from engine.session.jobs import DONE, FAILED as JOB_FAILED, PAINT_CURRENT, PREFETCH_PAINT, Job
from engine.story.graph import READY

IMAGE_MEMORY = 24        # decoded images kept in memory
STAND_IN = "procedural"  # the painter whose picture stands in for a failed one


class Picture(NamedTuple):
    """What a painting job hands back to the frame thread."""

    key: str
    image: Any
    painted: bool = False   # the session's painter made it just now
    failure: str = ""       # why the painter failed; image is then the procedural stand-in
    note: str = ""          # what the painter wants the player to know (once), e.g. that it
                            # painted the player from the text look only


class Pictures:
    """Pictures for a Session: its part that owns the painting jobs, their progress, the
    decoded pictures in memory and the image cache on disk."""

    def __init__(self, session, cache: ImageCache):
        self.session = weakref.proxy(session)   # no cycle: a dropped story is freed at once
        self.cache = cache
        self.painting: dict[int, Job] = {}          # scenes whose picture is being made
        self.progress: dict[int, float] = {}        # painting progress per scene
        self._images: OrderedDict[str, Any] = OrderedDict()   # decoded pictures by cache key
        self._prompts = PromptBuilder()             # renders the moddable image.j2
        self._image_template_error = ""
        self._stand_in = None                       # the procedural painter, made on a failure
        self.painter_down = ""                      # the painter's failure, until it paints again
        self._noted: set[str] = set()               # painter notes already shown

    def prefetch(self, node: int) -> None:
        if self.session.config.prefetch.images and self.session.painter.id != "none":
            self.request_image(node, PREFETCH_PAINT)

    def image_prompt(self, node: int | None = None) -> str:
        """The full prompt for a scene's picture, from the moddable image.j2: the scene's image
        prompt, the recorded appearance of each character present (so they look the same from
        scene to scene) and the player's when the scene shows them (engine.story.persona
        .in_frame), the mood and the world's art style; then what the world declares for
        the scene's location (`[locations.<id>]`), so a changed declaration changes the key."""
        scene = self.session.scene(node)
        version = scene.current
        if version is None:
            return self.session.world.spec.art_style
        world = self.session.world
        state = self.session.graph.state_after(scene.id)
        declared = world.location_picture(state.location)   # after the scene's own
        try:
            prompt = self._prompts.image_prompt(world, version, state, self.session.characters,
                                                self.session.player())
            return f"{prompt.rstrip()} {declared}" if declared else prompt
        except DreamreelError as err:
            if self._image_template_error != str(err):
                self._image_template_error = str(err)
                self.session._notice(EventKind.ERROR, f"{err} Using the default picture prompt.")
            player = self.session.player()
            shown = in_frame(player, version.image_prompt, version.narration)
            parts = [world.spec.art_style, version.image_prompt,
                     ("featuring " + player.appearance()) if shown and player.look else "",
                     describe(self.session.characters, state.present), f"{version.mood} mood",
                     declared]
            return ", ".join(p for p in parts if p)

    def shipped_picture(self, node: int | None = None) -> str | None:
        """The world's own picture file that the scene's `image` names (e.g. images/harbor.png),
        shown instead of a painted one; None when the scene describes its picture in words."""
        version = self.session.scene(node).current
        return shipped_picture(self.session.world, version.image_prompt) if version is not None else None

    def portrait_for(self, node: int | None = None):
        """The player's portrait (PIL image) for the scene's picture, or None: only for a
        painter that takes one, a scene that shows the player and a portrait that loads."""
        if not takes_portrait(self.session.painter):
            return None
        version = self.session.scene(node).current
        player = self.session.player()
        if version is None or not player.portrait or \
                not in_frame(player, version.image_prompt, version.narration):
            return None
        return self.session.portrait()

    def _key_model(self, portrait) -> str:
        """The cache key's model field: the painter's model, and when a portrait steers the
        picture, the portrait's hash and the adapter settings (so old keys stay valid)."""
        painter = self.session.painter
        likeness = getattr(painter, "likeness_key", "") if portrait is not None else ""
        if not likeness:
            return painter.model
        return f"{painter.model}|portrait={self.session.player().portrait}|{likeness}"

    def image_key(self, node: int | None = None) -> str:
        """The cache key of the scene's picture (see the module docstring for the portrait)."""
        scene = self.session.scene(node)
        size = (self.session.config.images.width, self.session.config.images.height)
        shipped = self.shipped_picture(scene.id)
        if shipped is not None:
            return cache_key("world", self.session.world.id, shipped,
                             picture_version(self.session.world, shipped), 0, size, 0)
        model = self._key_model(self.portrait_for(scene.id))
        return cache_key(self.session.painter.id, model, self.image_prompt(scene.id),
                         getattr(self.session.painter, "negative_prompt", ""), scene.current.seed, size,
                         self.session.painter.steps)

    def request_image(self, node: int, priority: int = PAINT_CURRENT) -> None:
        """Make sure the scene's picture is (being) painted or loaded."""
        scene = self.session.scene(node)
        if scene.status != READY:
            return
        if node in self.painting and not self.painting[node].cancelled:
            if priority < self.painting[node].priority:
                self.session.runner.reprioritise(self.painting[node], priority)
            return
        key = self.image_key(node)
        if key in self._images:
            scene.current.image_key = key
            return
        cache, painter = self.cache, self.session.painter
        size = (self.session.config.images.width, self.session.config.images.height)
        shipped, world = self.shipped_picture(node), self.session.world
        if shipped is not None:                       # the world's own picture: read, not painted
            self.painting[node] = self.session.runner.submit(
                lambda job: Picture(key, load_world_picture(world, shipped, size)), priority,
                "paint", key=node)
            return
        prompt, seed = self.image_prompt(node), scene.current.seed
        down = self.painter_down if priority >= PREFETCH_PAINT else ""   # spare a dead server
        likeness = {"portrait": portrait} if (portrait := self.portrait_for(node)) is not None \
            else {}

        def work(job: Job):
            image = cache.get(key)
            if image is not None:
                return Picture(key, image)
            if down:
                return self._paint_stand_in(job, prompt, seed, size, down)
            try:
                image = painter.paint(prompt, seed, size,
                                      on_progress=lambda f: job.emit("progress", f), **likeness)
            except PainterError as err:
                if painter.id == STAND_IN:
                    raise
                return self._paint_stand_in(job, prompt, seed, size, str(err))
            note = str(image.info.pop(NOTICE_KEY, "") or "")
            cache.put(key, image)
            return Picture(key, image, painted=True, note=note)

        self.painting[node] = self.session.runner.submit(work, priority, "paint", key=node)

    def _paint_stand_in(self, job: Job, prompt: str, seed: int, size: tuple[int, int],
                        failure: str) -> Picture:
        """The procedural picture for a scene whose painter failed (on the worker thread)."""
        if self._stand_in is None:
            from engine.painters.procedural.painter import ProceduralPainter  # noqa: PLC0415

            self._stand_in = ProceduralPainter()
        stand_in = self._stand_in
        key = cache_key(stand_in.id, stand_in.model, prompt, "", seed, size, stand_in.steps)
        image = self.cache.get(key)
        if image is None:
            image = stand_in.paint(prompt, seed, size,
                                   on_progress=lambda f: job.emit("progress", f))
            self.cache.put(key, image)
        return Picture(key, image, failure=failure)

    def drop_stale_work(self) -> None:
        """Cancel paintings the player's move made pointless; the current scene's goes first."""
        narration, runner = self.session.narration, self.session.runner
        depth = self.session.config.prefetch.depth
        for node, job in list(self.painting.items()):
            ahead = narration.ahead(node)
            if ahead is None or ahead > depth:
                job.cancel()
            elif ahead == 0:
                runner.reprioritise(job, PAINT_CURRENT)

    def forget(self) -> None:
        """Drop the pictures in memory (the story is closed)."""
        self._images.clear()

    def image(self, node: int):
        """The scene's picture if it is in memory (a PIL image), else None. Reading changes
        nothing: the current scene's picture is requested when the player arrives there, and
        a front end that shows another scene's picture asks for it with request_image(), then
        gets an IMAGE event when it is ready."""
        scene = self.session.scene(node)
        if scene.current is None or self.session.painter.id == "none":
            return None
        key = scene.current.image_key
        return self._images.get(key) if key else None

    def on_job_event(self, job: Job, kind: str, payload: Any) -> list[SessionEvent]:
        node = job.key
        if kind == "requeued":
            self.progress.pop(node, None)
            return []
        if kind == "progress":
            self.progress[node] = float(payload)
            return [SessionEvent(EventKind.PROGRESS, node, payload)]
        if self.painting.get(node) is job:
            del self.painting[node]
        self.progress.pop(node, None)
        if kind == JOB_FAILED:
            return [self.session._notice(EventKind.ERROR, f"The painter failed: {payload}", node)]
        if kind != DONE or node not in self.session.graph:
            return []
        key, image, painted, failure, note = Picture(*payload)
        events = []
        if note and note not in self._noted:
            self._noted.add(note)
            events.append(self.session._notice(EventKind.NOTICE, note, node))
        if failure and not self.painter_down:
            events.append(self.session._notice(
                EventKind.ERROR, f"The painter failed: {failure} Showing the built-in pictures "
                                 f"until it paints again.", node))
        if failure:
            self.painter_down = failure
        elif painted:
            self.painter_down = ""
        self._images[key] = image
        while len(self._images) > IMAGE_MEMORY:
            self._images.popitem(last=False)
        version = self.session.scene(node).current
        if version is not None and version.image_key != key:
            version.image_key = key
            self.session.saving.mark(node)
        return events + [SessionEvent(EventKind.IMAGE, node, key)]

