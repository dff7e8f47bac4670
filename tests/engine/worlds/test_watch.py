"""Hot reload: a changed world is loaded again; a broken one keeps the last good world.

No test here sleeps: the watcher's clock is a parameter (or check_now() scans at once), and
every write moves the file's modification time forward explicitly."""

import os
from pathlib import Path

import pytest

from engine.worlds import watch
from engine.worlds.watch import POLL_INTERVAL_S, WorldWatcher
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


def write(path: Path, text: str) -> None:
    """Write a file and move its modification time a second past any it had, so the change
    shows even on file systems with coarse timestamps and when the size stays the same."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    after = path.stat()
    os.utime(path, ns=(after.st_atime_ns, max(after.st_mtime_ns, before) + 1_000_000_000))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    write(path, text.replace(old, new))


def _count_scans(watcher: WorldWatcher) -> list[float]:
    """The clock's time of each scan of the folder the watcher makes from now on."""
    scans, snapshot = [], watcher.snapshot

    def counted():
        scans.append(watcher.clock())
        return snapshot()

    watcher.snapshot = counted
    return scans


def test_checks_between_scans_read_no_files_and_an_unchanged_world_is_not_reloaded(
        root, monkeypatch):
    loads = []
    monkeypatch.setattr(watch, "load_world", lambda path: loads.append(path) or load_world(path))
    clock = Clock()
    watcher = WorldWatcher(load_world(str(root)), clock=clock)
    scans = _count_scans(watcher)
    for _ in range(1000):                           # the frame loop calls it every frame
        assert watcher.check() == (None, [])
    assert scans == []                              # within the interval: not one scan
    for _ in range(5):
        clock.now += POLL_INTERVAL_S
        for _ in range(100):
            assert watcher.check() == (None, [])
    # one scan per interval, however often it is called
    assert scans == pytest.approx([100 + POLL_INTERVAL_S * n for n in range(1, 6)])
    every = WorldWatcher(load_world(str(root)), interval=0, clock=clock)
    scans = _count_scans(every)
    for _ in range(50):
        assert every.check() == (None, [])
    assert len(scans) == 50 and loads == []          # nothing changed: nothing loaded


def test_check_now_scans_at_once_whatever_the_interval(root):
    clock = Clock()                                  # it never moves in this test
    watcher = WorldWatcher(load_world(str(root)), clock=clock)
    _edit(root / "storylets" / "story.toml", "The road ends where it always did",
          "The road ends at a new place")
    assert watcher.check() == (None, [])            # throttled
    assert watcher.check_now() == (None, [])        # changed since the last scan: settling
    world, messages = watcher.check_now()
    assert world is not None and messages == [f"World reloaded: {world.title}"]
    assert "a new place" in world.storylets["arrival"].spec.text and watcher.world is world
    assert watcher.check_now() == (None, [])        # nothing new
    assert WorldWatcher(world, settle=False, clock=clock).check_now() == (None, [])


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
    write(root / "storylets" / "more.toml",
          '[[storylet]]\nid = "extra"\ntitle = "Extra"\ntext = "More."\nending = true\n')
    world, _ = watcher.check()
    assert world is not None and "extra" in world.storylets
    write(root / "prompts" / "system.j2", "Narrate {{ world.title }}.")
    world, _ = watcher.check()
    assert world is not None and world.prompt_override("system.j2") is not None
    _edit(root / "lore.toml", "as old as the village", "older than the village")
    world, _ = watcher.check()
    assert "older than" in world.lore[0].text


def test_a_broken_file_keeps_the_last_good_world_and_says_why(root):
    good = load_world(str(root))
    watcher = WorldWatcher(good, interval=0, settle=False)
    write(root / "world.toml", (root / "world.toml").read_text() + "\n[state\n")
    world, messages = watcher.check()
    assert world is None and watcher.world is good
    assert len(messages) == 1 and "last good version" in messages[0]
    assert "world.toml" in messages[0] and "TOML" in messages[0]
    assert watcher.check() == (None, [])            # not retried until the files change again
    write(root / "world.toml", (root / "world.toml").read_text().replace("\n[state\n", ""))
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
