"""A saved story as the exporters read it: the scenes of a path, in order, with their pictures.

The film, the book and the Twine story are made from a save, never from a game in progress:
`open_story` reads a slot as a read-only copy (it writes nothing, whatever happens), with the
storylet narrator (no model is loaded to export) and the story's own painter, which paints a
picture only when the image cache lacks it. `read_story` turns it into plain, frozen data: the
world's title, the player's name and portrait, and one ExportedScene per scene of the
chosen path. An
exporter reports progress through a callback; raising engine.errors.JobCancelled from it (or
from a painter's progress) cancels the export, as it cancels any job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from engine.errors import DreamreelError
from engine.painters import NOTICE_KEY

if TYPE_CHECKING:  # pragma: no cover
    from PIL import Image as PILImage

    from engine.config import Config
    from engine.session.core import Session

PathKind = Literal["current", "longest", "all"]
PATHS: tuple[str, ...] = ("current", "longest", "all")
# on_progress(fraction done 0..1, what is being done): may raise JobCancelled to stop the export
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ExportedChoice:
    """A choice a scene offered: its label, and the scene it leads to (told or not)."""

    label: str
    intent: str
    node: int
    told: bool          # the scene behind it was told (False: an unwritten branch)
    typed: bool = False  # the player typed it (a free-text action)


@dataclass(frozen=True)
class ExportedScene:
    """One told scene, as exporters need it."""

    id: int
    parent: int | None
    title: str
    narration: str
    mood: str
    location: str        # the world state's location once the scene happened ("" if none)
    image_prompt: str    # the full prompt its picture is painted from
    image_key: str       # the picture's cache key
    action: str          # the choice or typed action that led here ("" for the opening)
    typed: bool          # the player typed that action
    ending: bool
    version: int         # which telling this is (0-based) ...
    versions: int        # ... of how many
    choices: tuple[ExportedChoice, ...]


@dataclass(frozen=True)
class ExportedStory:
    """A story ready to export: where it comes from and the scenes of one path, in order."""

    slot: str
    world_id: str
    world_title: str
    premise: str
    art_style: str
    player_name: str
    path: str                         # "current", "longest" or "all"
    scenes: tuple[ExportedScene, ...]
    # the player's portrait (a PIL image, read-only) or None; for the film's title card
    portrait: Any = field(default=None, compare=False, repr=False)


def open_story(config: "Config", slot: str | None = None, painter=None) -> "Session":
    """A saved story, read as a read-only copy that never writes a slot. slot None: the newest.

    The storylet narrator tells anything that must be told (nothing normally is), so no model
    loads; the painter is the story's own (config), or `painter`. Close it when done.

    Raises:
        SaveError: no such slot, or it cannot be read (the message names the file).
    """
    from engine.narrators.storylets import StoryletNarrator
    from engine.session.core import Session
    from engine.session.jobs import InlineRunner

    return Session.resume(config, slot, narrator=StoryletNarrator(), painter=painter,
                          runner=InlineRunner(), read_only=True)


def path_nodes(session: "Session", path: PathKind) -> list[int]:
    """The ids of the told scenes on a path, in story order.

    current: from the opening to where the player is; longest: the deepest told branch (ties:
    the lowest ids, so the result is stable); all: every told scene, in id order (parents
    before children).
    """
    graph = session.graph
    if path == "current":
        return [n for n in session.path() if graph.scene(n).current is not None]
    told = [scene for scene in graph.scenes() if scene.current is not None]
    if path == "all":
        return [scene.id for scene in told]
    if path != "longest":
        raise DreamreelError(f"Unknown path '{path}': use {', '.join(PATHS)}.")
    depth: dict[int, int] = {}
    for scene in told:       # id order: a parent's depth is known before its children's
        depth[scene.id] = depth.get(scene.parent, -1) + 1 if scene.parent is not None else 0
    deepest = min(told, key=lambda scene: (-depth[scene.id], scene.id))
    return [n for n in graph.path(deepest.id) if graph.scene(n).current is not None]


def read_story(session: "Session", path: PathKind = "current") -> ExportedStory:
    """The story's scenes on `path` as frozen data (reads only; nothing is painted)."""
    graph, world = session.graph, session.world
    scenes = []
    for node in path_nodes(session, path):
        scene = graph.scene(node)
        version = scene.current
        choices = tuple(ExportedChoice(child.label, child.intent, child.id,
                                       told=child.current is not None, typed=child.free_text)
                        for child in graph.children(node)
                        if child.parent_version == scene.active)
        scenes.append(ExportedScene(
            id=node, parent=scene.parent, title=version.title, narration=version.narration,
            mood=version.mood, location=graph.state_after(node).location or "",
            image_prompt=session.image_prompt(node), image_key=session.image_key(node),
            action=scene.label if scene.parent is not None else "", typed=scene.free_text,
            ending=version.ending, version=scene.active, versions=len(scene.versions),
            choices=choices))
    return ExportedStory(slot=session.slot, world_id=world.id, world_title=world.title,
                         premise=world.spec.premise, art_style=world.spec.art_style,
                         player_name=session.player().name, path=path, scenes=tuple(scenes),
                         portrait=session.portrait())


def scene_picture(session: "Session", node: int, size: tuple[int, int],
                  on_progress: Callable[[float], None] | None = None) -> "PILImage.Image":
    """A scene's picture at `size` (scaled and centre-cropped): the world's own picture, the
    cached one, or painted now with the story's painter (and cached, as in play; a painter
    that takes the player's portrait is given it for a scene that shows the player).

    on_progress(fraction) is passed to the painter; an exception it raises (JobCancelled)
    stops the painting.
    """
    from engine.worlds.pictures import fill, load_world_picture

    scene = session.scene(node)
    if scene.current is None:
        raise DreamreelError(f"Scene {node} has not been told; it has no picture.")
    shipped = session.shipped_picture(node)
    if shipped is not None:
        return load_world_picture(session.world, shipped, size)
    key = session.image_key(node)
    image = session.cache.get(key)
    if image is None:
        play = session.config.images
        portrait = session.pictures.portrait_for(node)   # as in play: the key names it
        likeness = {"portrait": portrait} if portrait is not None else {}
        image = session.painter.paint(session.image_prompt(node), scene.current.seed,
                                      (play.width, play.height), on_progress=on_progress,
                                      **likeness)
        image.info.pop(NOTICE_KEY, None)
        session.cache.put(key, image)
    return fill(image.convert("RGB"), size)


__all__ = ["ExportedChoice", "ExportedScene", "ExportedStory", "PATHS", "Progress",
           "open_story", "path_nodes", "read_story", "scene_picture"]
