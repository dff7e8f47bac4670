"""Save slots: JSON snapshots plus an append-only journal, with rolling backups.

A slot is a folder: `story.json` (a full snapshot), `story.json.1..3` (older snapshots),
`journal.jsonl` (one checksummed line per autosave since the snapshot: the scenes that changed
and the play state), `meta.json` and `thumb.png`. An autosave appends one line and fsyncs it, so
its cost does not grow with the story; a manual save or a load with a long journal compacts.
A damaged snapshot falls back to its newest good backup; a torn journal line (a crash mid-write)
is dropped. Saves are untrusted: sizes are capped, unknown fields refused, names confined.
This module knows the slot's files (snapshots, backups, meta, thumbnail) and the save format's
versions; the journal's line format and replay live in engine.journal. It knows nothing of the
Session.
"""

from __future__ import annotations

import errno
import gc
import io
import json
import os
import re
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import orjson

from engine.atomic import fsync_dir, write_atomic
from engine.errors import SaveError
from engine.journal import apply_journal, journal_line, last_journal_meta, read_journal

FORMAT = "dreamreel-save"
VERSION = 1                 # written by this Dreamreel
MIN_VERSION = 1             # oldest version this Dreamreel can upgrade and load
BACKUPS = 3                 # older snapshots kept per slot
MAX_SNAPSHOT_BYTES = 1 << 30  # refuse larger story.json files
COMPACT_SMALL = (64, 2_000)   # (journal lines, scenes): small stories compact this often
COMPACT_LARGE = 1_024         # journal lines after which any story compacts
SLOT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,47}$")
UPGRADES: dict[int, Callable[[dict], dict]] = {}  # version -> step to version + 1


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
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise SaveError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}. "
                            f"This file was not written by Dreamreel; remove them or the slot.")
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at)) if self.saved_at else "?"


@dataclass
class Loaded:
    """A slot read back: the snapshot with the journal applied, and what went wrong on the way."""

    snapshot: dict
    warnings: list[str] = field(default_factory=list)
    journal_lines: int = 0


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
    again (measured: most of a 100k-scene load). Afterwards the survivors are frozen, so later
    collections during play do not rescan the whole story (no frame hitches).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _os_message(err: OSError, path: Path) -> str:
    if err.errno == errno.ENOSPC:
        return f"The disk holding {path} is full. Free some space; nothing saved before was lost."
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"{path} is not writable. Give Dreamreel write access or choose another folder "
                f"with --saves-dir; nothing saved before was lost.")
    return f"Could not write {path}: {err.strerror or err}. Nothing saved before was lost."


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

    # -- writing ----------------------------------------------------------------------------
    def write_snapshot(self, name: str, snapshot: dict, meta: SlotMeta,
                       thumbnail_png: bytes | None = None) -> None:
        """Write a full save (a manual save, or a compaction), keeping rolling backups."""
        folder = self.slot_dir(name)
        story = folder / "story.json"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            data = orjson.dumps(snapshot)
            tmp = folder / ".story.json.new"
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
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
            os.replace(tmp, story)
            fsync_dir(folder)
            write_atomic(folder / "meta.json", json.dumps(asdict(meta)).encode("utf-8"))
            if thumbnail_png:
                write_atomic(folder / "thumb.png", thumbnail_png, durable=False)
        except OSError as err:
            raise SaveError(_os_message(err, folder)) from None

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
        warnings: list[str] = []
        snapshot = None
        backup = 0   # which snapshot was used: 0 for story.json, k for story.json.k
        for index in range(BACKUPS + 1):
            path = folder / ("story.json" if index == 0 else f"story.json.{index}")
            if not path.exists():
                continue
            try:
                snapshot = self._read_snapshot(path)
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
        return Loaded(snapshot=apply_journal(snapshot, records), warnings=warnings,
                      journal_lines=len(records) if backup == 0 else 0)

    def _read_snapshot(self, path: Path) -> dict:
        size = path.stat().st_size
        if size > MAX_SNAPSHOT_BYTES:
            raise SaveError(f"{path} is {size >> 20} MB, over the {MAX_SNAPSHOT_BYTES >> 20} MB "
                            f"limit; it is not a Dreamreel save.")
        try:
            with gc_paused():
                data = orjson.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as err:
            raise SaveError(f"{path} is damaged ({err}); it may have been cut off or edited.") from None
        except OSError as err:
            raise SaveError(f"{path} cannot be read ({err.strerror}).") from None
        return upgrade(data, str(path))

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
            try:
                meta = SlotMeta.from_dict(json.loads(where.read_bytes()), str(where))
            except (ValueError, TypeError) as err:
                raise SaveError(f"{where} is damaged ({err}).") from None
        last = last_journal_meta(folder / "journal.jsonl")
        if last is not None:
            try:
                meta = SlotMeta.from_dict(last, str(folder / "journal.jsonl"))
            except (TypeError, SaveError):
                pass
        if meta is None:
            raise SaveError(f"{folder}: no meta.json; this slot is damaged.")
        return meta

    def list(self) -> list[tuple[SlotMeta | None, str, str]]:
        """(meta, slot name, problem) for every slot, newest first; damaged ones say why."""
        if not self.slots_dir.is_dir():
            return []
        out = []
        for folder in self.slots_dir.iterdir():
            if not folder.is_dir() or not SLOT_NAME.match(folder.name):
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
        path = self.slot_dir(name) / "thumb.png"
        return path if path.exists() else None


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
        data = UPGRADES[version](data)
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


class Saver:
    """Writes autosaves on a background thread, in order, so the frame loop never waits for
    fsync. Failures are kept for the owner to report; flush() waits for what is queued."""

    def __init__(self):
        import queue
        import threading
        self._queue: "queue.Queue" = queue.Queue()
        self._failures: list[SaveError] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="dreamreel-saver", daemon=True)
        self._thread.start()

    def submit(self, write: Callable[[], None]) -> None:
        self._queue.put(write)

    def flush(self) -> None:
        """Block until every queued write is on disk (before a manual save, a load, an exit)."""
        self._queue.join()

    def failures(self) -> list[SaveError]:
        with self._lock:
            failed, self._failures = self._failures, []
        return failed

    def _loop(self) -> None:
        while True:
            write = self._queue.get()
            try:
                write()
            except SaveError as err:
                with self._lock:
                    self._failures.append(err)
            except Exception as err:  # never let the saver thread die silently
                with self._lock:
                    self._failures.append(SaveError(f"{type(err).__name__}: {err}"))
            finally:
                self._queue.task_done()
