"""Exporters read a saved story as a read-only copy: the path's scenes, in order, as data."""

from __future__ import annotations

import pytest

from engine.errors import DreamreelError
from engine.export.story import open_story, path_nodes, read_story, scene_picture
from engine.session.core import Session
from engine.session.jobs import InlineRunner


@pytest.fixture
def saved(config):
    """A story of The Lantern Coast: six turns, a step back and another branch, then saved."""
    config = config.with_changes(game={"painter": "procedural", "world": "lantern_coast"},
                                 images={"width": 192, "height": 108})
    session = Session.new(config, runner=InlineRunner(), slot="tale")
    session.wait()
    for _ in range(6):
        session.choose(0)
        session.wait()
    session.back()
    session.back()
    session.choose(len(session.choices()) - 1)
    session.wait()
    session.flush_saves()
    where, path = session.current, session.path()
    session.close()
    return config, where, path


def test_the_current_path_is_read_in_order_and_nothing_is_written(saved):
    config, where, path = saved
    folder = config.saves_dir / "slots" / "tale"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    session = open_story(config, "tale")
    try:
        story = read_story(session, "current")
        assert [scene.id for scene in story.scenes] == path
        assert story.scenes[0].action == "" and all(s.action for s in story.scenes[1:])
        assert story.world_title == "The Lantern Coast" and story.slot == "tale"
        for scene, following in zip(story.scenes, story.scenes[1:]):
            assert following.parent == scene.id
            assert following.id in [choice.node for choice in scene.choices]
        assert all(scene.narration and scene.image_key for scene in story.scenes)
    finally:
        session.close()
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_longest_and_all_paths(saved):
    config, where, path = saved
    session = open_story(config, "tale")
    try:
        longest = path_nodes(session, "longest")
        everything = path_nodes(session, "all")
        assert len(longest) == 7 > len(path) - 1        # the first branch went deeper
        assert set(longest) | set(path) <= set(everything)
        assert everything == sorted(everything)
        with pytest.raises(DreamreelError, match="Unknown path"):
            path_nodes(session, "sideways")
    finally:
        session.close()


def test_a_picture_missing_from_the_cache_is_painted_and_cached(saved):
    config, where, path = saved
    session = open_story(config, "tale")
    try:
        node = path[-1]
        key = session.image_key(node)
        assert session.cache.get(key) is None          # asked for, but the story closed first
        image = scene_picture(session, node, (64, 36))
        assert image.size == (64, 36)
        assert session.cache.get(key) is not None
    finally:
        session.close()
