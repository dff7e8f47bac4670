"""Save slots: JSON snapshots plus an append-only journal, with rolling backups.

A slot is a folder: `story.json` (a full snapshot), `story.json.1..3` (older snapshots),
`journal.jsonl` (one checksummed line per autosave since the snapshot: the scenes that changed
and the play state), `meta.json` and `thumb.png`. An autosave appends one line and fsyncs it, so
its cost does not grow with the story; a manual save or a load with a long journal compacts.
A damaged snapshot falls back to its newest good backup; a torn journal line (a crash mid-write)
is dropped. A crash in the middle of a full save is recovered from the finished new snapshot
(`.story.json.new`) and called what it was. A save that fails (a full disk) leaves the slot as it
was, with no temp files and no half-made slot. Saves are untrusted: every file's size is checked
before it is read, JSON nesting is limited, unknown fields refused, names confined.
This module knows the slot's files (snapshots, backups, meta, thumbnail) and the save format's
versions, and a new story's slot name (world and date, numbered when taken); the journal's line
format and replay live in engine.saves.journal, the slot lock in engine.saves.slotlock, the autosave thread
in engine.saves.saver, deleted slots in engine.saves.trash. It knows nothing of the Session.
"""

from __future__ import annotations

import errno
import gc
import io
import itertools
import os
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

from engine.atomic import fsync_dir, write_atomic
from engine.errors import SaveError
from engine.saves.journal import apply_journal, journal_line, last_journal_meta, read_journal
from engine.saves.slotlock import Holder, SlotClaim, claim_slot, slot_holder
from engine.saves.trash import TRASH_FOLDER, Deleted, move_to_trash, restore_from_trash
from engine.saves.untrusted import loads, read_capped
from engine.saves.upgrades import STEPS, VERSION

FORMAT = "dreamreel-save"
MIN_VERSION = 1             # oldest version this Dreamreel can upgrade and load
BACKUPS = 3                 # older snapshots kept per slot
MAX_SNAPSHOT_BYTES = 1 << 30  # refuse larger story.json files
MAX_META_BYTES = 64 << 10     # refuse larger meta.json files
MAX_THUMB_BYTES = 4 << 20     # a thumbnail is a few dozen KB; larger files are not shown
COMPACT_SMALL = (64, 2_000)   # (journal lines, scenes): small stories compact this often
COMPACT_LARGE = 1_024         # journal lines after which any story compacts
SLOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,47}$")
STAGED = ".story.json.new"    # a full save's new snapshot, complete before any file is replaced
SAVE_FILES = ("meta.json", "story.json", "journal.jsonl", STAGED)   # any of them: a slot


@dataclass
class SlotMeta:
    """What the slot list shows, readable without loading the story."""

    name: str
    saved_at: float = 0.0
    turn: int = 0
    world: str = ""
    world_title: str = ""
    scene_title: str = ""
    scenes: int = 0
    image_key: str = ""      # cache key of the current scene's picture (the live thumbnail)
    version: int = VERSION

    @classmethod
    def from_dict(cls, data: dict, where: str) -> "SlotMeta":
        """Checked: unknown fields and wrong types are refused with the file named."""
        if type(data) is not dict:
            raise SaveError(f"{where} is damaged (not an object).")
        known = cls.__dataclass_fields__
        unknown = set(data) - set(known)
        if unknown:
            raise SaveError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}. "
                            f"This file was not written by Dreamreel; remove them or the slot.")
        for name, value in data.items():
            wanted = META_TYPES[name]
            if type(value) not in wanted or (type(value) is str and len(value) > 1000):
                raise SaveError(f"{where}: the field '{name}' is damaged.")
        if "name" not in data:
            raise SaveError(f"{where}: the slot's name is missing; it is damaged.")
        return cls(**data)

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at)) if self.saved_at else "?"


_NUMBER = (int, float)
META_TYPES = {"name": (str,), "saved_at": _NUMBER, "turn": (int,), "world": (str,),
              "world_title": (str,), "scene_title": (str,), "scenes": (int,),
              "image_key": (str,), "version": (int,)}


@dataclass
class Loaded:
    """A slot read back: the snapshot with the journal applied, what went wrong on the way
    (warnings: the player may have lost something) and what was put right (notes: nothing lost)."""

    snapshot: dict
    warnings: list[str] = field(default_factory=list)
    journal_lines: int = 0
    notes: list[str] = field(default_factory=list)


def story_slot_base(world_id: str, when: float | None = None) -> str:
    """The name a new story's slot starts from: its world and the date ("lantern_coast-2026-12-07"),
    cut and cleaned to a usable slot name."""
    day = time.strftime("%Y-%m-%d", time.localtime(time.time() if when is None else when))
    world = re.sub(r"[^A-Za-z0-9_.-]+", "_", world_id).strip("._-")[:30] or "story"
    return f"{world}-{day}"


def check_name(name: str) -> str:
    """A slot name must be a plain file name (no paths), so a slot cannot escape its folder."""
    name = name.strip()
    if not SLOT_NAME.match(name) or name in (".", ".."):
        raise SaveError(f"'{name}' is not a usable slot name: use 1-48 letters, digits, spaces, "
                        f"'-', '_' or '.', starting with a letter or digit.")
    return name


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while many long-lived objects are made at once.

    Without this, collections triggered by the allocations rescan the growing story again and
    again (measured: most of a 100k-scene load). The collector runs again afterwards as usual;
    nothing is frozen, so a story that is closed (a load replacing it) is freed in full.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _os_message(err: OSError, path: Path) -> str:
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"The disk holding {path} is full. Free some space; nothing saved before was lost."
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"{path} is not writable. Give Dreamreel write access or choose another folder "
                f"with --saves-dir; nothing saved before was lost.")
    return f"Could not write {path}: {err.strerror or err}. Nothing saved before was lost."


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class SaveStore:
    """All save slots in one folder (default: saves/slots)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.slots_dir = self.root / "slots"

    # -- paths ------------------------------------------------------------------------------
    def slot_dir(self, name: str) -> Path:
        return self.slots_dir / check_name(name)

    def exists(self, name: str) -> bool:
        return (self.slot_dir(name) / "meta.json").exists() or \
            (self.slot_dir(name) / "story.json").exists()

    def taken(self, name: str) -> bool:
        """Whether a name is in use: any folder of that name (a slot, a damaged one, a save
        being made) or a game holding it."""
        return self.slot_dir(name).exists() or self.holder(name) is not None

    def fresh_name(self, world_id: str, when: float | None = None) -> str:
        """A new story's slot name: world and date, then "-2", "-3", ... when that is taken,
        the lowest free number (numbers are never skipped)."""
        base = story_slot_base(world_id, when)
        if not self.taken(base):
            return base
        for number in itertools.count(2):
            name = f"{base}-{number}"
            if not self.taken(name):
                return name
        raise AssertionError("unreachable")

    # -- deleting (undoable for the session) ------------------------------------------------
    def delete(self, name: str) -> Deleted:
        """Move a slot to the trash (engine.saves.trash) so that restore() can put it back; the
        trash is emptied when the process ends. A slot a game has open is refused."""
        folder = self.slot_dir(name)
        if not folder.is_dir():
            raise SaveError(f"No save named '{name}' to delete.")
        holder = self.holder(name)
        if holder is not None:
            raise SaveError(f"Slot '{name}' is open (process {holder.pid}): close that story "
                            f"before deleting it.")
        return move_to_trash(self.root / TRASH_FOLDER, folder)

    def restore(self, deleted: Deleted) -> str:
        """Undo delete(): the slot comes back under its name. Refused (SaveError) when the
        name was taken again meanwhile or the trash is gone."""
        return restore_from_trash(deleted, self.slot_dir(deleted.name))

    # -- one writer per slot ----------------------------------------------------------------
    def claim(self, name: str, share: bool = True) -> SlotClaim:
        """Claim a slot for writing (engine.saves.slotlock). Raises SlotBusy when another game holds
        it; a lock left by a game that was killed is taken over (the claim's took_over)."""
        return claim_slot(self.slots_dir, check_name(name), share=share)

    def holder(self, name: str) -> Holder | None:
        """The game holding a slot now, or None (for slot lists)."""
        return slot_holder(self.slots_dir, check_name(name))

    # -- writing ----------------------------------------------------------------------------
    def write_snapshot(self, name: str, snapshot: dict, meta: SlotMeta,
                       thumbnail_png: bytes | None = None) -> None:
        """Write a full save (a manual save, or a compaction), keeping rolling backups.

        Every new file is written (and fsynced) beside the old ones first; only then are the
        old ones replaced, by renames. So a failure (a full disk) leaves the slot exactly as it
        was, removes what it wrote, and never leaves a half-made slot; a crash during the
        renames is recovered by read() from the finished new snapshot."""
        folder = self.slot_dir(name)
        story = folder / "story.json"
        created = not folder.exists()
        staged = [folder / STAGED, folder / ".meta.json.new", folder / ".thumb.png.new"]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._clear_leftovers(folder)
            _write_synced(staged[0], orjson.dumps(snapshot))
            _write_synced(staged[1], orjson.dumps(asdict(meta)))
            if thumbnail_png:
                _write_synced(staged[2], thumbnail_png)
            # From here on only renames and empty files: nothing needs room for the story.
            # Each backup keeps the journal that continued it, so a damaged snapshot can be
            # rebuilt exactly from an older one plus the journals written since.
            for index in range(BACKUPS - 1, 0, -1):
                for base in ("story.json", "journal.jsonl"):
                    older = folder / f"{base}.{index}"
                    if older.exists():
                        os.replace(older, folder / f"{base}.{index + 1}")
            journal = folder / "journal.jsonl"
            if story.exists():
                os.replace(story, folder / "story.json.1")
                if journal.exists():
                    os.replace(journal, folder / "journal.jsonl.1")
                else:
                    write_atomic(folder / "journal.jsonl.1", b"", durable=False)
            write_atomic(journal, b"", durable=False)
            os.replace(staged[0], story)
            fsync_dir(folder)
            os.replace(staged[1], folder / "meta.json")
            if thumbnail_png:
                os.replace(staged[2], folder / "thumb.png")
            fsync_dir(folder)
        except OSError as err:
            for path in staged:
                _unlink(path)
            if created:
                self._remove_if_empty(folder)
            raise SaveError(_os_message(err, folder)) from None

    @staticmethod
    def _clear_leftovers(folder: Path) -> None:
        """Temp files of a save that was killed half-way (the slot is ours: none is in use)."""
        for entry in os.scandir(folder):
            if entry.name.startswith(".") and entry.name.endswith((".tmp", ".new")):
                _unlink(Path(entry.path))

    @staticmethod
    def _remove_if_empty(folder: Path) -> None:
        try:
            for entry in os.scandir(folder):
                if entry.name.startswith(".") and entry.name.endswith((".tmp", ".new")):
                    _unlink(Path(entry.path))
            folder.rmdir()
        except OSError:
            pass   # something else is in it: leave it

    def append(self, name: str, scenes: list[dict], play: dict, meta: SlotMeta) -> None:
        """Autosave: append one checksummed journal line and fsync it. Cost ~ one small write."""
        folder = self.slot_dir(name)
        journal = folder / "journal.jsonl"
        line = journal_line({"scenes": scenes, "play": play, "meta": asdict(meta)})
        try:
            if not folder.exists():
                folder.mkdir(parents=True, exist_ok=True)
            with open(journal, "ab") as handle:
                start = handle.tell()
                try:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
                except OSError:
                    handle.truncate(start)  # never leave half a line behind a failed write
                    raise
        except OSError as err:
            raise SaveError(_os_message(err, journal)) from None

    # -- reading ----------------------------------------------------------------------------
    def read(self, name: str) -> Loaded:
        """The slot's story: newest good snapshot plus its journal. Raises SaveError if none."""
        folder = self.slot_dir(name)
        interrupted = self._interrupted_save(folder)
        if interrupted is not None:
            return interrupted
        warnings: list[str] = []
        snapshot = None
        backup = 0   # which snapshot was used: 0 for story.json, k for story.json.k
        for index in range(BACKUPS + 1):
            path = folder / ("story.json" if index == 0 else f"story.json.{index}")
            if not path.exists():
                continue
            try:
                snapshot, read_version = self._read_snapshot(path)
                backup = index
                if index:
                    warnings.append(f"{folder / 'story.json'} was damaged; rebuilt the story from "
                                    f"the backup {path.name} and the autosaves since.")
                break
            except SaveError as err:
                warnings.append(str(err))
                if "newer Dreamreel" in str(err):
                    raise
        journal = folder / "journal.jsonl"
        if snapshot is None and not journal.exists():
            if warnings:
                raise SaveError("; ".join(warnings) + " No good backup is left in this slot.")
            raise SaveError(f"No save named '{name}' in {self.slots_dir}. "
                            f"`dreamreel saves list` shows the slots.")
        records: list[dict] = []
        for index in range(backup, -1, -1):   # the backup's own journal, then newer ones
            part = folder / ("journal.jsonl" if index == 0 else f"journal.jsonl.{index}")
            part_records, part_warnings = read_journal(part)
            records += part_records
            warnings += part_warnings
        if snapshot is None:
            raise SaveError(f"{folder}: no readable story.json or backup. "
                            + " ".join(warnings))
        return self._upgraded(Loaded(snapshot=apply_journal(snapshot, records), warnings=warnings,
                                     journal_lines=len(records) if backup == 0 else 0),
                              read_version)

    def _interrupted_save(self, folder: Path) -> Loaded | None:
        """A full save stopped between its renames (a crash, a kill): story.json is missing and
        the new snapshot, written in full before any rename began, is there. It is the story as
        saved, newer than the backups, with no journal after it. None when that is not the case
        (or the staged file is not a good snapshot: then the backups are used as usual)."""
        staged = folder / STAGED
        if (folder / "story.json").exists() or not staged.exists():
            return None
        try:
            snapshot, read_version = self._read_snapshot(staged)
        except SaveError:
            return None
        return self._upgraded(Loaded(snapshot=snapshot, notes=[
            f"Recovered '{folder.name}' from an interrupted save: the game stopped while saving; "
            f"the story is as it was saved, nothing was lost."]), read_version)

    def _read_snapshot(self, path: Path) -> tuple[dict, object]:
        """The snapshot at path, upgraded to this version, and the version it was saved in."""
        data = read_capped(path, MAX_SNAPSHOT_BYTES, "a story")
        try:
            with gc_paused():
                snapshot = loads(data, str(path))
        except UnicodeDecodeError as err:
            raise SaveError(f"{path} is damaged ({err}); it may have been cut off or edited.") from None
        version = snapshot.get("version") if isinstance(snapshot, dict) else None
        return upgrade(snapshot, str(path)), version

    @staticmethod
    def _upgraded(loaded: "Loaded", version: object) -> "Loaded":
        """Say so when the story was saved in an older format: it is written anew in this
        one at the next autosave (a note makes the Session start with a full snapshot)."""
        if isinstance(version, int) and version < VERSION:
            loaded.notes.append(f"This story was saved by an older Dreamreel (save version "
                                f"{version}); from now on it is saved in version {VERSION}.")
        return loaded

    def repair_journal(self, name: str, good_lines: int) -> None:
        """Cut a journal back to its good lines (after a crash tore the last one)."""
        journal = self.slot_dir(name) / "journal.jsonl"
        if not journal.exists():
            return
        with open(journal, "rb") as handle:
            lines = handle.readlines()[:good_lines]
        write_atomic(journal, b"".join(lines))

    def meta(self, name: str) -> SlotMeta:
        """Slot metadata: the newest of meta.json and the journal's last line."""
        folder = self.slot_dir(name)
        where = folder / "meta.json"
        meta = None
        if where.exists():
            meta = SlotMeta.from_dict(loads(read_capped(where, MAX_META_BYTES, "slot details"),
                                            str(where)), str(where))
        last = last_journal_meta(folder / "journal.jsonl")
        if last is not None:
            try:
                meta = SlotMeta.from_dict(last, str(folder / "journal.jsonl"))
            except SaveError:
                pass
        if meta is None:
            raise SaveError(f"{folder}: no meta.json; this slot is damaged.")
        return meta

    def list(self) -> list[tuple[SlotMeta | None, str, str]]:
        """(meta, slot name, problem) for every slot, newest first; damaged ones say why.
        A folder with none of a slot's files (a save that never finished) is not a slot."""
        if not self.slots_dir.is_dir():
            return []
        out = []
        for folder in self.slots_dir.iterdir():
            if not folder.is_dir() or not SLOT_NAME.match(folder.name):
                continue
            if not any((folder / base).exists() for base in SAVE_FILES):
                continue
            try:
                out.append((self.meta(folder.name), folder.name, ""))
            except SaveError as err:
                out.append((None, folder.name, str(err)))
        out.sort(key=lambda item: -(item[0].saved_at if item[0] else 0))
        return out

    def latest(self) -> str | None:
        for meta, name, _ in self.list():
            if meta is not None:
                return name
        return None

    def thumbnail_path(self, name: str) -> Path | None:
        """The slot's thumbnail, if there is one of a sane size (else None: none is shown)."""
        path = self.slot_dir(name) / "thumb.png"
        try:
            return path if path.stat().st_size <= MAX_THUMB_BYTES else None
        except OSError:
            return None


def upgrade(data: dict, where: str) -> dict:
    """Check a snapshot's format and bring an older version up to the current one."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SaveError(f"{where} is not a Dreamreel save.")
    version = data.get("version")
    if not isinstance(version, int):
        raise SaveError(f"{where} has no version number; it is damaged.")
    if version > VERSION:
        raise SaveError(f"{where} was made by a newer Dreamreel (save version {version}, this "
                        f"one reads up to {VERSION}). Update Dreamreel to load it.")
    if version < MIN_VERSION:
        raise SaveError(f"{where} is save version {version}, too old to load "
                        f"(oldest supported: {MIN_VERSION}).")
    while version < VERSION:
        data = STEPS[version](data)
        version += 1
        data["version"] = version
    return data


def png_bytes(image, size: tuple[int, int] = (320, 180)) -> bytes:
    """A small PNG thumbnail of a PIL image."""
    thumb = image.convert("RGB").copy()
    thumb.thumbnail(size)
    buffer = io.BytesIO()
    thumb.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
