"""Scenes, versions and the play state are saved from one definition: their dataclass fields.

Every field of each is set to a value other than its default, saved and read back, and must
come back equal: a field added to Scene, Version or PlayState is covered here with no table to
update, and one the saved form forgot would fail.
"""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from engine.errors import SaveError
from engine.saves.snapshot import saved_scene, scene_from_dict
from engine.story.graph import READY, SCENE_SHAPE, VERSION_SHAPE, Scene, Version
from engine.story.playstate import PLAY_SHAPE, PlayState
from engine.story.records import shape_of

# Values that mean something for a few fields; every other field gets one made from its type.
MEANINGFUL = {"status": READY, "effects": {"add_items": ["rope"], "location": "harbour"},
              "characters": {"ivy": "Ivy Marsh, wiry girl of seventeen"}, "mood": "eerie",
              "player_name": "Ada Rask", "pronouns": "she/her",
              "look": "tall, short grey hair, a red oilskin coat", "portrait": "ab" * 32}


def unusual_value(name: str, default, kinds: frozenset):
    """A value for a field that differs from its default, of a type the field accepts."""
    if name in MEANINGFUL:
        return MEANINGFUL[name]
    if bool in kinds:
        return not default
    if int in kinds:
        return (default or 0) + 3
    if str in kinds:
        return f"{name} set"
    raise AssertionError(f"no test value for field {name}: add one to MEANINGFUL")


def filled(cls, shape, **given):
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in given:
            values[field.name] = given[field.name]
        else:
            values[field.name] = unusual_value(field.name, shape.defaults.get(field.name),
                                               shape.types[field.name])
    return cls(**values)


def test_every_field_of_a_scene_and_its_versions_survives_a_save():
    version = filled(Version, VERSION_SHAPE)
    scene = filled(Scene, SCENE_SHAPE, versions=[Version("First", "The first telling."), version],
                   active=1)
    saved = orjson.loads(orjson.dumps(saved_scene(scene)))     # through JSON, as on disk
    back = scene_from_dict(saved, "test")
    assert back == scene
    for field in dataclasses.fields(Scene):
        assert getattr(back, field.name) == getattr(scene, field.name), field.name
    for field in dataclasses.fields(Version):
        assert field.name in saved["versions"][1], f"Version.{field.name} is not saved"


def test_every_field_of_the_play_state_survives_a_save():
    play = filled(PlayState, PLAY_SHAPE)
    saved = orjson.loads(orjson.dumps(play.to_dict()))
    assert set(saved) == {field.name for field in dataclasses.fields(PlayState)}
    assert PlayState.from_dict(saved, "test") == play


def test_defaults_are_left_out_of_a_saved_scene():
    scene = Scene(id=4, parent=1)
    assert saved_scene(scene) == {"id": 4, "parent": 1}
    assert scene_from_dict({"id": 4, "parent": 1}, "test") == scene


@pytest.mark.parametrize("record, problem", [
    ({"id": 1, "parent": None, "haunted": True}, "unknown field 'haunted'"),
    ({"id": 1, "parent": None, "visited": 1}, "wrong type"),
    ({"id": 1}, "lacks parent"),
])
def test_a_saved_scene_is_read_strictly(record, problem):
    with pytest.raises(SaveError, match=problem):
        scene_from_dict(record, "story.json")


@pytest.mark.parametrize("data, problem", [
    ({"current": 1, "mood_of_the_day": "grim"}, "unknown field"),
    ({"current": "one"}, "current is damaged"),
    ({"current": 1, "turn": -1}, "turn is damaged"),
    ({"current": 1, "characters": {"ivy": 3}}, "character records are damaged"),
    ({"current": 1, "portrait": "../../etc/passwd"}, "portrait is damaged"),
    ({"current": 1, "look": 7}, "look is damaged"),
    ([1, 2], "play state is damaged"),
])
def test_a_saved_play_state_is_read_strictly(data, problem):
    with pytest.raises(SaveError, match=problem):
        PlayState.from_dict(data, "story.json")


def test_over_long_profile_text_is_cut_not_refused():
    play = PlayState.from_dict({"current": 1, "player_name": "N" * 500,
                                "look": "tall\n\x07 and   grey " * 100}, "story.json")
    assert play.player_name == "N" * 40
    assert len(play.look) == 300 and "\n" not in play.look and "\x07" not in play.look


def test_the_shape_is_read_from_the_dataclass():
    @dataclasses.dataclass
    class Record:
        name: str
        parent: int | None
        count: int = 0
        tags: dict = dataclasses.field(default_factory=dict)
        items: list[Version] = dataclasses.field(default_factory=list)

    shape = shape_of(Record)
    assert shape.required == ("name", "parent")
    assert shape.defaults == {"count": 0, "tags": {}, "items": []}
    assert shape.types["parent"] == frozenset({int, type(None)})
    assert shape.nested == {"items": Version}
