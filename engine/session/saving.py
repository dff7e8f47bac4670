"""The Session's saving: autosave every turn on the saver thread, named saves, compaction.

A mixin of engine.session.core.Session, split out to keep each file readable. The file format lives
in engine.saves.store, the snapshot's shape in engine.saves.snapshot, the slot lock in engine.saves.slotlock and the
saver thread in engine.saves.saver; this part decides when and what, and what the player is told:
every new kind of autosave failure once (never rate-limited away), and once when saving works
again. A story writes only the slot it holds (a read-only copy writes none), so two games never
mix their stories in one slot.
"""

from __future__ import annotations

import time

from engine.errors import SaveError
from engine.events import EventKind, SessionEvent
from engine.saves.saver import give_memory_back
from engine.saves.store import COMPACT_LARGE, COMPACT_SMALL, SlotMeta, check_name, png_bytes
from engine.saves.snapshot import saved_scene, to_snapshot


class JournalState:
    """Shared by the Session and its queued writes: why the slot's journal cannot be continued
    (an autosave failed, so the next line would continue a story the disk does not hold), or
    None. Set and cleared on the saver thread; the Session reads it."""

    def __init__(self):
        self.broken: str | None = None


class Saving:
    """Saving for the Session (see engine.session.core)."""

    def meta(self, name: str) -> SlotMeta:
        scene = self.scene()
        return SlotMeta(name=name, saved_at=time.time(), turn=self.turn, world=self.world.id,
                        world_title=self.world.title, scene_title=scene.title,
                        scenes=len(self.graph),
                        image_key=scene.current.image_key if scene.current else "")

    def play_state(self) -> dict:
        return {"current": self.current, "turn": self.turn, "author_note": self.author_note,
                "characters": self.characters}

    def autosave(self) -> bool:
        """Save this turn into the session's slot, on the saver thread (the caller never waits
        for the disk). Its cost does not grow with the story: one journal line of the scenes
        that changed. Returns False while autosaving fails (reported as an event), or when
        this story may not write its slot. A read-only copy saves nothing and returns True."""
        if self.read_only:
            self._dirty.clear()
            return True
        if self._closed or not self._may_write():
            return False
        slot, store, meta, journal = self.slot, self.store, self.meta(self.slot), self._journal
        if not self._slot_has_snapshot or self._should_compact():
            snapshot = to_snapshot(self)

            def write() -> None:
                try:
                    store.write_snapshot(slot, snapshot, meta)
                except SaveError as err:
                    journal.broken = str(err)
                    raise
                finally:
                    give_memory_back()     # the snapshot's buffers were as big as the story
                journal.broken = None

            submitted = self._submit(write)
            self._slot_has_snapshot = submitted
            self._journal_lines = 0
        else:
            records = [saved_scene(self.graph.scene(n)) for n in sorted(self._dirty)
                       if n in self.graph]
            play = self.play_state()

            def write() -> None:
                if journal.broken is not None:    # the line would continue a lost autosave
                    raise SaveError(journal.broken)
                try:
                    store.append(slot, records, play, meta)
                except SaveError as err:
                    journal.broken = str(err)
                    raise

            submitted = self._submit(write)
            self._journal_lines += 1
        if submitted:
            self._dirty.clear()
        self._save_outcomes()
        return submitted and self._save_failing is None

    def _submit(self, write) -> bool:
        try:
            self._saver.submit(write)
            return True
        except SaveError:          # the story was closed: nothing more is written
            return False

    def _may_write(self) -> bool:
        """Whether this story still holds its slot. Another story opened in this game into the
        same slot (a load) takes it over; this one then stops writing there, and says so once."""
        if self._claim is None or self._claim.owns:
            return True
        if not self._slot_lost_told:
            self._slot_lost_told = True
            self._notice(EventKind.ERROR, f"Not autosaved: slot '{self.slot}' is now written by another "
                                  f"story opened in this game.")
        return False

    def _save_outcomes(self) -> list[SessionEvent]:
        """Report what the saver thread did: each new kind of failure once (the next autosave
        then writes a full snapshot), and once when saving works again."""
        events = []
        for outcome in self._saver.outcomes():
            if outcome is None:
                if self._save_failing is not None:
                    self._save_failing = None
                    events.append(self._notice(EventKind.NOTICE, f"Autosave works again: the story is "
                                                         f"saved in slot '{self.slot}'."))
                continue
            self._slot_has_snapshot = False
            message = str(outcome)
            if message != self._save_failing:
                events.append(self._notice(EventKind.ERROR, f"Autosave failed: {message}"))
            self._save_failing = message
        return events

    @property
    def save_problem(self) -> str | None:
        """Why autosaving fails now (the last failure reported), or None while it works."""
        return self._save_failing

    def flush_saves(self) -> bool:
        """Wait until every autosave is on disk. False (and an error event) if saving fails."""
        self._saver.flush()
        self._save_outcomes()
        return self._save_failing is None

    def _should_compact(self) -> bool:
        """Now and then fold the journal into a new snapshot, which also rotates the backups.
        Small stories do it often (cheap); big ones rarely, so the median autosave stays flat."""
        lines, scenes = COMPACT_SMALL
        return (self._journal_lines >= lines and len(self.graph) <= scenes) or \
            self._journal_lines >= COMPACT_LARGE

    def save(self, name: str, quiet: bool = False) -> str:
        """A full save into a named slot, with a thumbnail. Raises SaveError on failure, and
        then the slot is as it was before.

        The story's own slot needs this story to hold it (not a read-only copy); another slot
        is claimed for the moment of the save, so a slot another game is playing in is refused
        rather than overwritten."""
        name = check_name(name)
        claim = None
        if name == self.slot:
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
            image = self.image() if self.painter.id != "none" else None
            if image is None and self.scene().current and self.scene().current.image_key:
                image = self.cache.get(self.scene().current.image_key)
            if image is not None:
                thumb = png_bytes(image)
            self.store.write_snapshot(name, to_snapshot(self), self.meta(name), thumb)
        finally:
            if claim is not None:
                claim.release()
        if name == self.slot:
            self._slot_has_snapshot = True
            self._journal_lines = 0
            self._journal.broken = None
            self._dirty.clear()
        if not quiet:
            self._notice(EventKind.NOTICE, f"Saved to slot '{name}'.")
        return name


__all__ = ["Saving", "JournalState", "saved_scene"]
