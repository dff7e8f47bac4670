"""Turning a Session into a save snapshot (plain JSON data) and back, strictly.

Saves come from other people too, so reading one refuses unknown fields, wrong types, dangling
parents and oversized text with a SaveError naming the file and the field. This module knows the
snapshot's shape; engine.saves knows the files.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from engine.errors import DreamreelError, SaveError
from engine.graph import STATUSES, STUB, Scene, StoryGraph, Version
from engine.saves import FORMAT, VERSION, gc_paused
from engine.worlds import load_world

if TYPE_CHECKING:
    from engine.session import Session

_TEXT, _INT, _BOOL = frozenset({str}), frozenset({int}), frozenset({bool})
SCENE_TYPES = {"id": _INT, "parent": frozenset({int, type(None)}), "parent_version": _INT,
               "label": _TEXT, "intent": _TEXT, "goto": _TEXT, "free_text": _BOOL, "seed": _INT,
               "status": _TEXT, "error": _TEXT, "versions": frozenset({list}), "active": _INT,
               "visited": _BOOL}
VERSION_TYPES = {"title": _TEXT, "narration": _TEXT, "image_prompt": _TEXT, "mood": _TEXT,
                 "effects": frozenset({dict}), "ending": _BOOL, "source": _TEXT,
                 "author": _TEXT, "seed": _INT, "image_key": _TEXT}
SCENE_REQUIRED = frozenset({"id", "parent"})
VERSION_REQUIRED = frozenset({"title", "narration"})
TOP_FIELDS = {"format", "version", "saved_at", "world", "narrator", "painter", "seed", "play",
              "next_id", "scenes"}
MAX_TEXT = 20_000  # characters in any one saved string


def to_snapshot(session: "Session") -> dict:
    """The whole story as JSON-ready data."""
    world = session.world
    return {
        "format": FORMAT,
        "version": VERSION,
        "saved_at": time.time(),
        "world": {"id": world.id, "path": str(world.root)},
        "narrator": f"{session.narrator.id}:{session.narrator.model}",
        "painter": session.painter.id,
        "seed": session.seed,
        "play": session.play_state(),
        "next_id": session.graph.next_id,
        "scenes": [scene.to_dict() for scene in session.graph.scenes()],
    }


def _check(record: Any, types: dict, required: frozenset, what: str, where: str) -> dict:
    """Refuse unknown fields, missing required ones, wrong types and oversized text."""
    if type(record) is not dict:
        raise SaveError(f"{where}: {what} is not an object; the save is damaged.")
    keys = record.keys()
    if required <= keys and keys <= types.keys():
        for name, value in record.items():   # the common case: known fields, check types
            kind = type(value)
            if kind not in types[name] or (kind is str and len(value) > MAX_TEXT):
                break
        else:
            return record
    for name, value in record.items():
        allowed = types.get(name)
        if allowed is None:
            raise SaveError(f"{where}: {what} has an unknown field '{name}'. Saves may only "
                            f"hold what Dreamreel writes.")
        if type(value) not in allowed:
            raise SaveError(f"{where}: {what}.{name} has the wrong type; the save is damaged.")
        if type(value) is str and len(value) > MAX_TEXT:
            raise SaveError(f"{where}: {what}.{name} is over {MAX_TEXT} characters.")
    if not required <= record.keys():
        missing = ", ".join(sorted(required - record.keys()))
        raise SaveError(f"{where}: {what} lacks {missing}; the save is damaged.")
    return record


def scene_from_dict(record: Any, where: str) -> Scene:
    """A Scene from its compact saved form, checked field by field."""
    data = dict(_check(record, SCENE_TYPES, SCENE_REQUIRED, "a scene", where))
    if data.get("status", STUB) not in STATUSES:
        raise SaveError(f"{where}: scene {data['id']} has unknown status {data['status']!r}.")
    versions = [Version(**_check(v, VERSION_TYPES, VERSION_REQUIRED, "a scene version", where))
                for v in data.pop("versions", ())]
    scene = Scene(versions=versions, **data)
    if versions and not 0 <= scene.active < len(versions):
        scene.active = len(versions) - 1
    return scene


def from_snapshot(cls, config, data: dict, where: str, *, narrator=None, painter=None,
                  runner=None, slot: str = "autosave") -> "Session":
    """Build a Session from a snapshot. Raises SaveError (or WorldError) with the file named."""
    with gc_paused():
        return _from_snapshot(cls, config, data, where, narrator=narrator, painter=painter,
                              runner=runner, slot=slot)


def _from_snapshot(cls, config, data: dict, where: str, *, narrator=None, painter=None,
                   runner=None, slot: str = "autosave") -> "Session":
    unknown = set(data) - TOP_FIELDS
    if unknown:
        raise SaveError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
    try:
        world_ref = data["world"]
        play = data["play"]
        seed = int(data["seed"])
        records = data["scenes"]
    except (KeyError, TypeError, ValueError):
        raise SaveError(f"{where}: the save lacks its world, play state or scenes.") from None
    if not isinstance(records, list) or not records:
        raise SaveError(f"{where}: the save holds no scenes.")
    world = _load_world(world_ref, config, where)
    from engine.painters import painter_from_config
    session = cls(config, world, narrator or config.make_narrator(),
                  painter or painter_from_config(config), runner, seed=seed, slot=slot)
    graph = StoryGraph(world.initial_state())
    scenes: dict[int, Scene] = {}
    for record in records:
        scene = scene_from_dict(record, where)
        if scene.parent is not None and scene.parent not in scenes:
            raise SaveError(f"{where}: scene {scene.id} names a parent that is not in the save.")
        if scene.id in scenes:
            raise SaveError(f"{where}: scene {scene.id} appears twice.")
        scenes[scene.id] = scene
    graph.insert_many(scenes.values())
    if graph.root is None:
        raise SaveError(f"{where}: the save has no first scene.")
    session.graph = graph
    current = play.get("current") if isinstance(play, dict) else None
    if not isinstance(current, int) or current not in graph:
        raise SaveError(f"{where}: the current scene is missing from the save.")
    session.current = current
    session.turn = int(play.get("turn", 0))
    session.author_note = str(play.get("author_note", ""))[:500]
    characters = play.get("characters", {})
    if not isinstance(characters, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and len(v) <= 1000
            for k, v in characters.items()):
        raise SaveError(f"{where}: the character records are damaged.")
    session.characters = dict(list(characters.items())[:200])
    return session


def _load_world(ref: Any, config, where: str):
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise SaveError(f"{where}: the save does not say which world it belongs to.")
    try:
        return load_world(ref["id"], config.worlds_dir)
    except DreamreelError:
        path = ref.get("path")
        if isinstance(path, str) and path:
            try:
                return load_world(path, config.worlds_dir)
            except DreamreelError as err:
                raise SaveError(f"{where}: its world '{ref['id']}' cannot be loaded: {err}") from None
        raise SaveError(f"{where}: its world '{ref['id']}' is not installed. Install the world "
                        f"(dreamreel worlds) or load another save.") from None
