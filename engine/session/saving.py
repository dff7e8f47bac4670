"""The Session's saving: autosave every turn on the saver thread, named saves, compaction.

A part of engine.session.core.Session (it holds its own state; it reads the story through the
Session's public methods). The file format lives in engine.saves.store, the snapshot's shape in
engine.saves.snapshot, the slot lock in engine.saves.slotlock and the saver thread in
engine.saves.saver; this part decides when and what, and what the player is told: every new
kind of autosave failure once (never rate-limited away), and once when saving works again. A
story writes only the slot it holds (a read-only copy writes none), so two games never mix
their stories in one slot.

Nothing here grows with the story on the caller's thread: an autosave hands the saver thread
the scenes changed since the last one, and a full snapshot (the first autosave, and every so
often a compaction of the journal) is built on the saver thread from the story graph itself.
"""

from __future__ import annotations

import time
import weakref
from typing import TYPE_CHECKING

from engine.errors import SaveError
from engine.events import EventKind, SessionEvent
from engine.saves.portrait import keep_portrait
from engine.saves.saver import Saver, give_memory_back
from engine.saves.snapshot import saved_scene, story_snapshot, to_snapshot
from engine.saves.store import COMPACT_LARGE, COMPACT_SMALL, SaveStore, SlotMeta, check_name, png_bytes

if TYPE_CHECKING:  # pragma: no cover
    from engine.saves.slotlock import SlotClaim


class JournalState:
    """Shared by the Session and its queued writes: why the slot's journal cannot be continued
    (an autosave failed, so the next line would continue a story the disk does not hold), or
    None. Set and cleared on the saver thread; the Session reads it."""

    def __init__(self):
        self.broken: str | None = None


class Saving:
    """Autosaves and named saves of one Session, and what the player is told about them."""

    def __init__(self, session, store: SaveStore, claim: "SlotClaim | None", read_only: bool):
        """session: the Session this part saves (engine.session.core; held weakly)."""
        self.session = weakref.proxy(session)   # no cycle: a dropped story is freed at once
        self.store = store
        self.claim = claim               # the slot's lock, None for a read-only copy
        self.read_only = read_only
        self.dirty: set[int] = set()     # scenes changed since the last autosave
        self.has_snapshot = False        # the slot holds this story's snapshot
        self.journal_lines = 0           # autosaves appended since the slot's last snapshot
        self._saver = Saver()            # autosaves are written off the caller's thread
        self._journal = JournalState()   # why the slot's journal cannot go on, or None
        self._failing: str | None = None  # the autosave failure last reported
        self._slot_lost_told = False     # told that another story took the slot over

    def mark(self, *nodes: int) -> None:
        """Note scenes that changed, for the next autosave."""
        self.dirty.update(nodes)

    def meta(self, name: str) -> SlotMeta:
        """What the slot list shows for this story, saved as `name`."""
        session = self.session
        scene = session.scene()
        return SlotMeta(name=name, saved_at=time.time(), turn=session.turn,
                        world=session.world.id, world_title=session.world.title,
                        scene_title=scene.title, scenes=len(session.graph),
                        image_key=scene.current.image_key if scene.current else "")

    def autosave(self) -> bool:
        """Save this turn into the session's slot, on the saver thread (the caller never waits
        for the disk). Its cost on the caller's thread does not grow with the story: one
        journal line of the scenes that changed, or, when a full snapshot is due, only the
        order to build one (the saver thread builds it). Returns False while autosaving fails
        (reported as an event), or when this story may not write its slot. A read-only copy
        saves nothing and returns True."""
        session = self.session
        if self.read_only:
            self.dirty.clear()
            return True
        if session.closed or not self._may_write():
            return False
        slot, store, meta, journal = session.slot, self.store, self.meta(session.slot), self._journal
        if not self.has_snapshot or self._should_compact():
            play = session.play.to_dict()
            story = (session.graph, session.world, session.narrator, session.painter, play)

            def write() -> None:
                try:   # built here, on the saver thread: it costs as much as the story is big
                    store.write_snapshot(slot, story_snapshot(*story), meta)
                except SaveError as err:
                    journal.broken = str(err)
                    raise
                finally:
                    give_memory_back()     # the snapshot's buffers were as big as the story
                journal.broken = None

            submitted = self._submit(write)
            self.has_snapshot = submitted
            self.journal_lines = 0
        else:
            graph = session.graph
            records = [saved_scene(graph.scene(n)) for n in sorted(self.dirty) if n in graph]
            play = session.play.to_dict()

            def write() -> None:
                if journal.broken is not None:    # the line would continue a lost autosave
                    raise SaveError(journal.broken)
                try:
                    store.append(slot, records, play, meta)
                except SaveError as err:
                    journal.broken = str(err)
                    raise

            submitted = self._submit(write)
            self.journal_lines += 1
        if submitted:
            self.dirty.clear()
        self.outcomes()
        return submitted and self._failing is None

    def _submit(self, write) -> bool:
        try:
            self._saver.submit(write)
            return True
        except SaveError:          # the story was closed: nothing more is written
            return False

    def _may_write(self) -> bool:
        """Whether this story still holds its slot. Another story opened in this game into the
        same slot (a load) takes it over; this one then stops writing there, and says so once."""
        if self.claim is None or self.claim.owns:
            return True
        if not self._slot_lost_told:
            self._slot_lost_told = True
            self.session._notice(EventKind.ERROR, f"Not autosaved: slot '{self.session.slot}' "
                                                  f"is now written by another story opened in "
                                                  f"this game.")
        return False

    def outcomes(self) -> list[SessionEvent]:
        """Report what the saver thread did: each new kind of failure once (the next autosave
        then writes a full snapshot), and once when saving works again."""
        events = []
        for outcome in self._saver.outcomes():
            if outcome is None:
                if self._failing is not None:
                    self._failing = None
                    events.append(self.session._notice(
                        EventKind.NOTICE, f"Autosave works again: the story is saved in slot "
                                          f"'{self.session.slot}'."))
                continue
            self.has_snapshot = False
            message = str(outcome)
            if message != self._failing:
                events.append(self.session._notice(EventKind.ERROR, f"Autosave failed: {message}"))
            self._failing = message
        return events

    @property
    def problem(self) -> str | None:
        """Why autosaving fails now (the last failure reported), or None while it works."""
        return self._failing

    def flush(self) -> bool:
        """Wait until every autosave is on disk. False (and an error event) if saving fails."""
        self._saver.flush()
        self.outcomes()
        return self._failing is None

    def _should_compact(self) -> bool:
        """Now and then fold the journal into a new snapshot, which also rotates the backups.
        Small stories do it often (cheap); big ones rarely, so the median autosave stays flat."""
        lines, scenes = COMPACT_SMALL
        return (self.journal_lines >= lines and len(self.session.graph) <= scenes) or \
            self.journal_lines >= COMPACT_LARGE

    def save(self, name: str, quiet: bool = False) -> str:
        """A full save into a named slot, with a thumbnail. Raises SaveError on failure, and
        then the slot is as it was before.

        The story's own slot needs this story to hold it (not a read-only copy); another slot
        is claimed for the moment of the save, so a slot another game is playing in is refused
        rather than overwritten."""
        session = self.session
        name = check_name(name)
        claim = None
        if name == session.slot:
            if self.read_only:
                raise SaveError(f"This is a read-only copy of slot '{name}' (another game writes "
                                f"it). Save it under another name: :save NAME.")
            if not self._may_write():
                raise SaveError(f"Slot '{name}' is now written by another story; save this one "
                                f"under another name.")
        else:
            claim = self.store.claim(name, share=False)
        try:
            self._saver.flush()
            thumb = None
            image = session.picture_for_thumbnail()
            if image is not None:
                thumb = png_bytes(image)
            if name != session.slot and session.play.portrait:
                portrait = session.portrait_png()   # the new slot keeps its own copy
                if portrait is not None:
                    keep_portrait(self.store.slot_dir(name), session.play.portrait, portrait)
            self.store.write_snapshot(name, to_snapshot(session, session.play.to_dict()),
                                      self.meta(name), thumb)
        finally:
            if claim is not None:
                claim.release()
        if name == session.slot:
            self.has_snapshot = True
            self.journal_lines = 0
            self._journal.broken = None
            self.dirty.clear()
        if not quiet:
            session._notice(EventKind.NOTICE, f"Saved to slot '{name}'.")
        return name

    def close(self) -> None:
        """Write what is queued, end the saver thread, report how it went, free the slot."""
        self._saver.close()
        self.outcomes()
        if self.claim is not None:
            self.claim.release()

    @property
    def saver_alive(self) -> bool:
        """Whether the saver thread runs (it ends with close())."""
        return self._saver.alive


__all__ = ["Saving", "JournalState", "saved_scene"]
