"""The Session's hot reload: a modder edits the world's files and the next scene uses them.

A part of engine.session.core.Session, holding its own state. Each poll asks the watcher
(engine.worlds.watch) whether the world's files changed (a throttled scan of sizes and times,
cheap enough per frame); loading the world again takes far longer than a frame, so it runs as
a job on the Session's runner. When it is done, the Session plays the new world from the next
scene told, and scenes told ahead from the old world but not yet seen are told again. A broken
edit is reported and play goes on with the last good version.
"""

from __future__ import annotations

import weakref

from engine.events import EventKind
from engine.session.jobs import DONE, FAILED as JOB_FAILED, NARRATE_CURRENT, Job

RELOAD_WORLD = NARRATE_CURRENT   # a world reload goes before the scenes it should change


class WorldReload:
    """Hot reload of the world a Session plays."""

    def __init__(self, session):
        """session: the Session whose world is watched (held weakly)."""
        self.session = weakref.proxy(session)   # no cycle: a dropped story is freed at once
        self._watcher = None       # made on the first check: a story never polled scans nothing
        self._job: Job | None = None   # the job loading the world again, if any

    def check(self, now: bool = False) -> None:
        """Look for edits (throttled; `now` scans at once) and start loading them."""
        session = self.session
        if self._watcher is None:
            from engine.worlds.watch import WorldWatcher
            self._watcher = WorldWatcher(session.world)
        if self._job is not None:
            return
        changed = self._watcher.changed_files(now=now)
        if changed is not None:
            watcher = self._watcher
            self._job = session.runner.submit(lambda job: watcher.reload(changed),
                                              RELOAD_WORLD, "reload")

    def on_job_event(self, job: Job, kind: str, payload) -> None:
        """A reload job finished: play the new world from the next scene told."""
        if job is not self._job or kind not in (DONE, JOB_FAILED):
            return
        self._job = None
        session = self.session
        if kind == JOB_FAILED:
            session._notice(EventKind.ERROR, f"World not reloaded, still playing the last good "
                                             f"version: {payload}")
            return
        world, messages = payload
        if world is not None:
            session.world = world   # the next scene told uses it
            self._retell_prefetched()
        kind = EventKind.NOTICE if world is not None else EventKind.ERROR
        for message in messages:
            session._notice(kind, message)

    def _retell_prefetched(self) -> None:
        """Tell again the scenes prefetched from the old world but not yet seen, so the edit
        shows in the very next scene (the old telling stays as an alternative)."""
        self.session.narration.retell_ahead()

    def stop(self) -> None:
        """Watch no more (the story is closed)."""
        self._watcher = None
