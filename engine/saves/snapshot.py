"""Turning a Session into a save snapshot (plain JSON data) and back, strictly.

Saves come from other people too, so reading one refuses unknown fields, wrong types, dangling
parents, oversized text and out-of-range numbers with a SaveError naming the file and the field,
and finds the save's world only inside the worlds folders (installed, shipped, or the folder the
player named). A save never holds a scene as "generating": no job outlives the game that ran it,
so such a scene is saved, and loaded, as a stub (or as its last telling). This module knows the
snapshot's shape; engine.saves.store knows the files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.errors import DreamreelError, SaveError
from engine.saves.store import FORMAT, VERSION, gc_paused
from engine.story.graph import (GENERATING, READY, SCENE_SHAPE, STATUSES, STUB, VERSION_SHAPE,
                                Scene, StoryGraph, Version)
from engine.story.playstate import PlayState
from engine.story.records import RecordShape
from engine.story.schema import MAX_NAME, Effects
from engine.story.seeds import SEED_MAX
from engine.worlds.loading import BUILTIN_WORLDS, load_world


TOP_FIELDS = {"format", "version", "saved_at", "world", "narrator", "painter", "play", "next_id",
              "scenes"}
MAX_TEXT = 20_000  # characters in any one saved string
MAX_INT = SEED_MAX  # the largest number a save may hold (ids, seeds, turns): 64-bit signed


def saved_scene(scene: Scene) -> dict:
    """A scene as saved. 'generating' is never saved: no job survives a load, so a scene being
    told is saved as what it will be when loaded (a stub, or its last telling)."""
    data = scene.to_dict()
    if scene.status == GENERATING:
        if scene.versions:
            data["status"] = READY
        else:
            data.pop("status", None)   # a stub: the default, left out
    return data


def to_snapshot(session: Any, play: dict) -> dict:
    """The whole story of a Session (engine.session.core) as JSON-ready data, with the play
    state `play`."""
    return story_snapshot(session.graph, session.world, session.narrator, session.painter, play)


def story_snapshot(graph: StoryGraph, world, narrator, painter, play: dict) -> dict:
    """The whole story as JSON-ready data, with the play state `play` (taken on the caller's
    thread when the save was asked for).

    It may run on the saver thread while play goes on: the scenes are read in id order from
    a list that only grows, and each is turned into fresh dicts, so nothing is shared with the
    story as it changes. A scene changed meanwhile is in the autosave journal line queued
    behind this snapshot, which wins when the story is read back."""
    scenes = [saved_scene(scene) for scene in graph.scenes()]
    return {
        "format": FORMAT,
        "version": VERSION,
        "saved_at": time.time(),
        "world": {"id": world.id, "path": str(world.root)},
        "narrator": f"{narrator.id}:{narrator.model}",
        "painter": painter.id,
        "play": play,
        "next_id": scenes[-1]["id"] + 1 if scenes else 0,
        "scenes": scenes,
    }


def _check(record: Any, shape: RecordShape, what: str, where: str) -> dict:
    """Refuse unknown fields, missing required ones, wrong types and oversized text."""
    types, required = shape.types, shape.required_set
    if type(record) is not dict:
        raise SaveError(f"{where}: {what} is not an object; the save is damaged.")
    keys = record.keys()
    if required <= keys and keys <= types.keys():
        for name, value in record.items():   # the common case: known fields, check types
            kind = type(value)
            if kind not in types[name] or (kind is str and len(value) > MAX_TEXT) or \
                    (kind is int and not 0 <= value <= MAX_INT):
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
        if type(value) is int and not 0 <= value <= MAX_INT:
            raise SaveError(f"{where}: {what}.{name} is out of range; the save is damaged.")
    if not required <= record.keys():
        missing = ", ".join(sorted(required - record.keys()))
        raise SaveError(f"{where}: {what} lacks {missing}; the save is damaged.")
    return record


def scene_from_dict(record: Any, where: str) -> Scene:
    """A Scene from its compact saved form, checked field by field."""
    data = dict(_check(record, SCENE_SHAPE, "a scene", where))
    if data.get("status", STUB) not in STATUSES:
        raise SaveError(f"{where}: scene {data['id']} has unknown status {data['status']!r}.")
    versions = [Version(**_check(v, VERSION_SHAPE, "a scene version", where))
                for v in data.pop("versions", ())]
    for version in versions:
        if version.effects and not _plain_effects(version.effects):
            try:
                Effects.model_validate(version.effects)
            except ValidationError:
                raise SaveError(f"{where}: scene {data['id']} has damaged effects.") from None
    if data.get("status") == GENERATING:   # its job ended with the game that saved it
        data["status"] = READY if versions else STUB
    scene = Scene(versions=versions, **data)
    if versions and not 0 <= scene.active < len(versions):
        scene.active = len(versions) - 1
    return scene


_NAME_LISTS = {"add_items": 5, "remove_items": 5, "characters_enter": 4, "characters_leave": 4}


def _plain_effects(effects: dict) -> bool:
    """A fast, strict check that saved effects are what Dreamreel writes (true means Effects
    accepts them); anything else is checked by Effects itself, which gives the verdict. Effects
    are applied whenever a scene's state is worked out, so a damaged one must be caught here."""
    for name, value in effects.items():
        if name in _NAME_LISTS:
            if type(value) is not list or len(value) > _NAME_LISTS[name] or \
                    not all(type(item) is str for item in value):
                return False
        elif name == "location":
            if value is not None and (type(value) is not str or len(value) > MAX_NAME):
                return False
        elif name in ("set_flags", "adjust"):
            allowed = (int,) if name == "adjust" else (bool, int, str)
            if type(value) is not dict or len(value) > 8 or not all(
                    type(key) is str and type(item) in allowed for key, item in value.items()):
                return False
        else:
            return False
    return True


def from_snapshot(cls, config, data: dict, where: str, *, narrator=None, painter=None,
                  runner=None, slot: str = "autosave", **options) -> Any:
    """Build a Session from a snapshot. Raises SaveError (or WorldError) with the file named.

    Everything is checked before the Session is made, so a damaged save starts no threads;
    `options` (read_only, claim) go to the Session."""
    with gc_paused():
        world, graph, play = _read_parts(data, config, where)
    from engine.painters import painter_from_config
    return cls(config, world, narrator or config.make_narrator(),
               painter or painter_from_config(config), runner, slot=slot, graph=graph,
               play=play, **options)


def _read_parts(data: dict, config, where: str) -> tuple:
    unknown = set(data) - TOP_FIELDS
    if unknown:
        raise SaveError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
    try:
        world_ref = data["world"]
        play = PlayState.from_dict(data["play"], where)
        records = data["scenes"]
    except (KeyError, TypeError):
        raise SaveError(f"{where}: the save lacks its world, play state or scenes.") from None
    if not isinstance(records, list) or not records:
        raise SaveError(f"{where}: the save holds no scenes.")
    world = _load_world(world_ref, config, where)
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
    if play.current not in graph:
        raise SaveError(f"{where}: the current scene is missing from the save.")
    return world, graph, play


def _load_world(ref: Any, config, where: str):
    """The save's world, looked for only where worlds live: the installed worlds folder, the
    shipped worlds, and the folder the player named (--world). A save is untrusted: the path it
    records is used only when it is one of those places."""
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        raise SaveError(f"{where}: the save does not say which world it belongs to.")
    ident = ref["id"]
    places = world_places(config)
    candidates = []
    if ident and ident not in (".", "..") and "/" not in ident and "\\" not in ident \
            and len(ident) <= 100:
        candidates = [base / ident for base in places[:2]]
    path = ref.get("path")
    if isinstance(path, str) and path and "\0" not in path:
        saved = Path(path).expanduser().resolve()
        if saved in places[2:] or any(saved.parent == base for base in places[:2]):
            candidates.append(saved)
        elif not any((c / "world.toml").is_file() for c in candidates):
            raise SaveError(f"{where}: its world '{ident}' is not installed, and the folder the "
                            f"save names ({path}) is outside the worlds folders, so it is not "
                            f"loaded from there. Install the world, or play it with "
                            f"--world FOLDER.")
    for candidate in candidates:
        if (candidate / "world.toml").is_file():
            try:
                return load_world(str(candidate))
            except DreamreelError as err:
                raise SaveError(f"{where}: its world '{ident}' cannot be loaded: {err}") from None
    raise SaveError(f"{where}: its world '{ident}' is not installed. Install the world "
                    f"(dreamreel worlds) or load another save.")


def world_places(config) -> list[Path]:
    """Where a save's world may come from: [installed worlds, shipped worlds, the folder the
    player named with --world (if a folder)], resolved."""
    places = [Path(config.worlds_dir).expanduser().resolve(), BUILTIN_WORLDS.resolve()]
    chosen = config.game.world
    if "/" in chosen or "\\" in chosen or chosen.startswith("."):
        places.append(Path(chosen).expanduser().resolve())
    return places
