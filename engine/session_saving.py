"""The Session's saving: autosave every turn on the saver thread, named saves, compaction.

A mixin of engine.session.Session, split out to keep each file readable. The file format lives
in engine.saves and the snapshot's shape in engine.snapshot; this part decides when and what.
"""

from __future__ import annotations

from engine.events import SessionEvent
import time

from engine.saves import COMPACT_LARGE, COMPACT_SMALL, SlotMeta, check_name, png_bytes
from engine.snapshot import to_snapshot


class Saving:
    """Saving for the Session (see engine.session)."""

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
        that changed. Returns False when an earlier autosave failed (reported as an event)."""
        slot, store, meta = self.slot, self.store, self.meta(self.slot)
        if not self._slot_has_snapshot or self._should_compact():
            snapshot = to_snapshot(self)
            self._saver.submit(lambda: store.write_snapshot(slot, snapshot, meta))
            self._slot_has_snapshot = True
            self._journal_lines = 0
        else:
            records = [self.graph.scene(n).to_dict() for n in sorted(self._dirty)
                       if n in self.graph]
            play = self.play_state()
            self._saver.submit(lambda: store.append(slot, records, play, meta))
            self._journal_lines += 1
        self._dirty.clear()
        return not self._save_failures()

    def _save_failures(self) -> list[SessionEvent]:
        """Report autosaves that failed on the saver thread (the next one writes a snapshot)."""
        events = []
        for err in self._saver.failures():
            self._slot_has_snapshot = False
            events.append(self._notice("error", f"Autosave failed: {err}"))
        return events

    def flush_saves(self) -> bool:
        """Wait until every autosave is on disk. False (and an error event) if one failed."""
        self._saver.flush()
        return not self._save_failures()

    def _should_compact(self) -> bool:
        """Now and then fold the journal into a new snapshot, which also rotates the backups.
        Small stories do it often (cheap); big ones rarely, so the median autosave stays flat."""
        lines, scenes = COMPACT_SMALL
        return (self._journal_lines >= lines and len(self.graph) <= scenes) or \
            self._journal_lines >= COMPACT_LARGE

    def save(self, name: str, quiet: bool = False) -> str:
        """A full save into a named slot, with a thumbnail. Raises SaveError on failure."""
        name = check_name(name)
        self._saver.flush()
        thumb = None
        image = self.image() if self.painter.id != "none" else None
        if image is None and self.scene().current and self.scene().current.image_key:
            image = self.cache.get(self.scene().current.image_key)
        if image is not None:
            thumb = png_bytes(image)
        self.store.write_snapshot(name, to_snapshot(self), self.meta(name), thumb)
        if name == self.slot:
            self._slot_has_snapshot = True
            self._journal_lines = 0
            self._dirty.clear()
        if not quiet:
            self._notice("notice", f"Saved to slot '{name}'.")
        return name

