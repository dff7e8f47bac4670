"""The autosave journal: one checksummed JSON line per autosave, and its replay onto a snapshot.

A slot's `journal.jsonl` continues its `story.json`: each line is `<crc32 hex> <json payload>\\n`,
the payload holding the scenes that changed, the play state and the slot meta at that autosave.
Appending a line costs the same however large the story is. Reading stops at the first torn or
tampered line (a crash mid-write, an edit by hand) and says where; the lines before it still count.
This module knows the line format and how records apply to a snapshot. It does not choose file
names, rotate backups or write snapshots (engine.saves.store does), and it knows nothing of the Session.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import orjson

MAX_JOURNAL_BYTES = 1 << 30   # refuse larger journal files
MAX_LINE_BYTES = 8 << 20      # one journal line
TAIL_BYTES = 262_144          # how much of a journal's end is read to find the latest meta


def _crc(payload: bytes) -> str:
    return format(zlib.crc32(payload), "08x")


def journal_line(record: dict) -> bytes:
    """One journal line for a record: its checksum, a space, its JSON and a newline."""
    payload = orjson.dumps(record)
    return _crc(payload).encode() + b" " + payload + b"\n"


def parse_line(raw: bytes) -> dict | None:
    """A journal line is `<crc32 hex> <json payload>\\n`; None when torn or tampered with."""
    crc, _, payload = raw.rstrip(b"\n").partition(b" ")
    if len(crc) != 8 or _crc(payload) != crc.decode("ascii", "replace"):
        return None
    try:
        record = orjson.loads(payload)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def read_journal(path: Path) -> tuple[list[dict], list[str]]:
    """The good records of a journal file, and a warning for the line where reading stopped.

    A missing file is an empty journal. A file over MAX_JOURNAL_BYTES is ignored with a warning.
    Reading stops at the first cut-off, garbled or mismatched line, so the story resumes from the
    autosave before it rather than from a record that may be half written.
    """
    if not path.exists():
        return [], []
    if path.stat().st_size > MAX_JOURNAL_BYTES:
        return [], [f"{path} is too large to be a Dreamreel journal; ignored it."]
    records, warnings = [], []
    with open(path, "rb") as handle:
        # readline with a cap: a damaged file with no newline in a gigabyte is not read whole
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""),
                                     start=1):
            problem = None
            if len(raw) > MAX_LINE_BYTES or not raw.endswith(b"\n"):
                problem = "cut off"
            else:
                record = parse_line(raw)
                if record is None:
                    problem = "garbled or checksum mismatch"
                else:
                    records.append(record)
            if problem:
                warnings.append(f"{path}, line {number}: {problem}; the story resumes from "
                                f"the autosave before it.")
                break
    return records, warnings


def last_journal_meta(path: Path) -> dict | None:
    """The meta of the journal's last complete, intact line, reading only the file's tail.

    This keeps the slot list fast: a slot's newest turn and title are known without reading
    (or replaying) a journal that may be long.
    """
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size == 0:
        return None
    with open(path, "rb") as handle:
        handle.seek(max(0, size - TAIL_BYTES))
        tail = handle.read()
    for raw in reversed(tail.split(b"\n")):
        record = parse_line(raw + b"\n") if raw.strip() else None
        if record is not None and isinstance(record.get("meta"), dict):
            return record["meta"]
    return None


def apply_journal(snapshot: dict, records: list[dict]) -> dict:
    """Replay autosave records (scene upserts and the play state) onto a snapshot.

    Later records win. Scenes whose parent is missing are dropped (parents have smaller ids),
    and a current scene that did not survive falls back to the first one kept, so a journal
    that was cut short still yields a story that loads.
    """
    if not records:
        return snapshot
    scenes = {scene["id"]: scene for scene in snapshot.get("scenes", [])
              if isinstance(scene, dict) and "id" in scene}
    for record in records:
        for scene in record.get("scenes", []):
            if isinstance(scene, dict) and type(scene.get("id")) is int:
                scenes[scene["id"]] = scene
        if isinstance(record.get("play"), dict):   # fields a line lacks (an older one) stay
            play = snapshot.get("play")
            snapshot["play"] = {**play, **record["play"]} if isinstance(play, dict) \
                else record["play"]
    kept: dict[int, dict] = {}
    for ident in sorted(scenes):   # parents have smaller ids; drop anything left orphaned
        parent = scenes[ident].get("parent")
        if parent is None or parent in kept:
            kept[ident] = scenes[ident]
    snapshot["scenes"] = list(kept.values())
    play = snapshot.get("play")
    if isinstance(play, dict) and play.get("current") not in kept and kept:
        play["current"] = next(iter(kept))
    return snapshot
