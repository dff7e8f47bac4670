"""Hot reload: notice that a world's files changed on disk and load the world again.

A modder edits a storylet in one window and sees the next scene use it in the game. The watcher
compares the size and modification time of the files a world is made of (world.toml, lore.toml,
reactions.toml, storylets/*.toml, prompts/*.j2) with what it saw last, at most a few times a
second; a poll in between costs well under a microsecond, a real scan a few dozen microseconds
(os.scandir, one stat per file), so the frame loop may call check() every frame. A change is
picked up once the files have stood still for one poll (editors often write a file in several
steps). Then the world is loaded again with load_world (about 0.1 s for the shipped worlds on a
slow machine, plus the template checks of the changed storylet files): the new World comes back
with its problems as messages; when it no longer loads at all, None comes back with the error,
and the caller keeps playing the last good world.

This module only reads: it never touches a Session, a window or the files it watches.

Example (the frame loop, or a terminal between turns)::

    watcher = WorldWatcher(session.world)
    ...
    world, messages = watcher.check()
    if world is not None:
        session.world = world          # the next scene uses it
    for message in messages:
        show(message)                  # a problem in the new world, or why it did not load

check_now() scans at once, whatever the interval; the clock is a parameter, so callers (and
tests) decide when time passes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.errors import DreamreelError
from engine.worlds.loading import load_world
from engine.worlds.world import World

POLL_INTERVAL_S = 0.3     # at most this often a real scan of the folder
MAX_MESSAGES = 20         # messages returned after one reload
Snapshot = dict[str, tuple[int, int]]   # relative path -> (mtime_ns, size)


class WorldWatcher:
    """Polls a world folder and reloads the world when its files change.

    Args:
        world: the world being played (its folder is watched).
        interval: the least time between two scans, in seconds (0: scan on every call).
        settle: wait until the files have stood still for one scan before reloading, so a file
            caught half-written by an editor is not reported as broken.
        clock: the time source (tests pass their own).
    """

    def __init__(self, world: World, interval: float = POLL_INTERVAL_S, settle: bool = True,
                 clock=time.monotonic):
        self.world = world
        self.root = Path(world.root)
        self.interval = interval
        self.settle = settle
        self.clock = clock
        self._loaded = self.snapshot()     # the files as the current world was loaded
        self._seen = self._loaded          # the files at the last scan
        self._next = clock() + interval

    def snapshot(self) -> Snapshot:
        """Size and modification time of every file the world is made of."""
        found: Snapshot = {}
        _scan(self.root, "", (".toml",), found,
              names=("world.toml", "lore.toml", "reactions.toml"))
        _scan(self.root / "storylets", "storylets/", (".toml",), found)
        _scan(self.root / "prompts", "prompts/", (".j2",), found)
        return found

    def check(self) -> tuple[World | None, list[str]]:
        """Poll; returns (new world or None, messages).

        (None, []) when nothing changed (or the files are still being written);
        (world, problems) after a reload; (None, [error]) when the changed world does not load,
        in which case the caller keeps the last good world. A failed reload is not retried until
        the files change again.
        """
        now = self.clock()
        if now < self._next:
            return None, []
        return self._poll(now)

    def check_now(self) -> tuple[World | None, list[str]]:
        """Scan now, whatever the interval, and answer as check() does (the next throttled scan
        is an interval from now). For a caller that knows the files may have changed, such as
        a terminal between turns or a reload job, and for tests, which need no clock then.
        A change still waits for the files to stand still for one scan when `settle` is on.
        """
        return self._poll(self.clock())

    def changed_files(self, now: bool = False) -> set[str] | None:
        """Poll like check() (or scan at once with `now`), but do not load: the files that
        changed and have stood still, or None when there is nothing to reload. The caller
        then calls reload(changed), for instance on a worker thread, since loading a world
        takes far longer than a frame."""
        clock = self.clock()
        if not now and clock < self._next:
            return None
        return self._changes(clock)

    def _changes(self, now: float) -> set[str] | None:
        self._next = now + self.interval
        current = self.snapshot()
        settling = self.settle and current != self._seen
        self._seen = current
        if current == self._loaded or settling:
            return None
        changed = {path for path in current.keys() | self._loaded.keys()
                   if current.get(path) != self._loaded.get(path)}
        self._loaded = current
        return changed

    def _poll(self, now: float) -> tuple[World | None, list[str]]:
        changed = self._changes(now)
        return (None, []) if changed is None else self.reload(changed)

    def reload(self, changed: set[str] | None = None) -> tuple[World | None, list[str]]:
        """Load the world again now, whatever the files look like.

        Args:
            changed: the files that changed; the templates of the storylets in those files are
                checked too (all storylet files when None). The rest of the world's templates
                are checked when they are told, or by `dreamreel worlds validate`.
        """
        try:
            world = load_world(str(self.root))
        except DreamreelError as err:
            return None, [f"World not reloaded, still playing the last good version: {err}"]
        except (OSError, ValueError, RecursionError) as err:   # a hostile or half-written file
            return None, [f"World not reloaded, still playing the last good version: "
                          f"{type(err).__name__}: {err}"]
        messages = [str(problem) for problem in world.problems]
        try:
            from engine.worlds.template_checks import check_storylet_templates
            files = None if changed is None else {f for f in changed if f.startswith("storylets/")}
            errors, _warnings = check_storylet_templates(world, files=files)
            messages += [str(problem) for problem in errors]
            if changed is None or "reactions.toml" in changed:
                from engine.worlds.reaction_checks import check_reaction_templates
                messages += [str(problem) for problem in check_reaction_templates(world)[0]]
        except DreamreelError as err:
            messages.append(str(err))
        self.world = world
        if len(messages) > MAX_MESSAGES:
            messages = messages[:MAX_MESSAGES] + [f"... and {len(messages) - MAX_MESSAGES} more "
                                                  "(run `dreamreel worlds validate`)"]
        return world, [f"World reloaded: {world.title}"] + messages


def _scan(folder: Path, prefix: str, suffixes: tuple[str, ...], found: Snapshot,
          names: tuple[str, ...] = ()) -> None:
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if names and entry.name not in names:
                    continue
                if not entry.name.endswith(suffixes) or entry.name.startswith("."):
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue   # vanished between listing and stat, or a dangling link
                found[prefix + entry.name] = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        pass   # a folder that is not there (yet) is simply empty


__all__ = ["WorldWatcher", "POLL_INTERVAL_S"]
