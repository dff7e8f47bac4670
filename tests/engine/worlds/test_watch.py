"""Hot reload: a changed world is loaded again; a broken one keeps the last good world."""

import os
import time
from pathlib import Path

import pytest

from engine.worlds.watch import WorldWatcher
from engine.worlds.loading import load_world
from engine.worlds.tools import new_world


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def root(tmp_path) -> Path:
    return new_world(str(tmp_path / "tale"), tmp_path)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()   # make the change visible even on coarse-mtime file systems
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_an_unchanged_world_costs_well_under_a_millisecond(root):
    watcher = WorldWatcher(load_world(str(root)), interval=0)
    start = time.perf_counter()
    for _ in range(200):
        assert watcher.check() == (None, [])
    assert (time.perf_counter() - start) / 200 < 0.001
    throttled = WorldWatcher(load_world(str(root)))
    start = time.perf_counter()
    for _ in range(10_000):
        throttled.check()
    assert (time.perf_counter() - start) / 10_000 < 0.00005


def test_a_changed_storylet_is_reloaded_once_it_stands_still(root):
    clock = Clock()
    watcher = WorldWatcher(load_world(str(root)), interval=0.3, clock=clock)
    _edit(root / "storylets" / "story.toml", "The road ends where it always did",
          "The road ends at a new place")
    assert watcher.check() == (None, [])            # throttled
    clock.now += 0.3
    assert watcher.check() == (None, [])            # changed since the last scan: settling
    clock.now += 0.3
    world, messages = watcher.check()
    assert world is not None and messages == [f"World reloaded: {world.title}"]
    assert "a new place" in world.storylets["arrival"].spec.text
    assert watcher.world is world
    clock.now += 0.3
    assert watcher.check() == (None, [])            # nothing new


def test_new_storylet_files_lore_and_prompt_overrides_are_noticed(root):
    watcher = WorldWatcher(load_world(str(root)), interval=0, settle=False)
    (root / "storylets" / "more.toml").write_text(
        '[[storylet]]\nid = "extra"\ntitle = "Extra"\ntext = "More."\nending = true\n')
    world, _ = watcher.check()
    assert world is not None and "extra" in world.storylets
    (root / "prompts" / "system.j2").write_text("Narrate {{ world.title }}.")
    world, _ = watcher.check()
    assert world is not None and world.prompt_override("system.j2") is not None
    _edit(root / "lore.toml", "as old as the village", "older than the village")
    world, _ = watcher.check()
    assert "older than" in world.lore[0].text


def test_a_broken_file_keeps_the_last_good_world_and_says_why(root):
    good = load_world(str(root))
    watcher = WorldWatcher(good, interval=0, settle=False)
    (root / "world.toml").write_text((root / "world.toml").read_text() + "\n[state\n")
    world, messages = watcher.check()
    assert world is None and watcher.world is good
    assert len(messages) == 1 and "last good version" in messages[0]
    assert "world.toml" in messages[0] and "TOML" in messages[0]
    assert watcher.check() == (None, [])            # not retried until the files change again
    (root / "world.toml").write_text((root / "world.toml").read_text().replace("\n[state\n", ""))
    world, messages = watcher.check()
    assert world is not None and messages[0].startswith("World reloaded")


def test_a_broken_storylet_is_reported_with_file_and_line(root):
    watcher = WorldWatcher(load_world(str(root)), interval=0, settle=False)
    _edit(root / "storylets" / "story.toml", "Welcome home, {{ player.name }}.",
          "Welcome home, {{ player.name }.")
    world, messages = watcher.check()
    assert world is not None            # the world loads; that storylet fails when told
    assert any(m.startswith("storylets/story.toml, line 13:") for m in messages), messages
    _edit(root / "storylets" / "story.toml", 'for the key"\nintent = "investigate"',
          'for the key"\nintent = "dig"')
    world, messages = watcher.check()
    assert world is not None and "meet_ada" not in world.storylets
    assert any("storylets/story.toml, line 36" in m and "intent" in m for m in messages)
    _edit(root / "storylets" / "story.toml", 'intent = "talk"\ngoto = "meet_ada"',
          'intent = "chat"\ngoto = "meet_ada"')   # now the opening storylet breaks
    world, messages = watcher.check()
    assert world is None and "start = 'arrival' names no usable storylet" in messages[0]
