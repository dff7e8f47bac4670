import json
import os

import pytest

from engine.errors import SaveError
from engine.saves import SaveStore, SlotMeta, check_name


def _snapshot(scenes):
    return {"format": "dreamreel-save", "version": 1, "play": {"current": scenes[-1]["id"]},
            "scenes": scenes}


def _scene(ident, parent=None):
    return {"id": ident, "parent": parent, "title": f"s{ident}"}


def test_snapshot_then_journal_round_trip(tmp_path):
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a", turn=0))
    store.append("a", [_scene(1, 0)], {"current": 1}, SlotMeta(name="a", turn=1, saved_at=5))
    store.append("a", [_scene(2, 1)], {"current": 2}, SlotMeta(name="a", turn=2, saved_at=6))
    loaded = store.read("a")
    assert [s["id"] for s in loaded.snapshot["scenes"]] == [0, 1, 2]
    assert loaded.snapshot["play"] == {"current": 2}
    assert store.meta("a").turn == 2            # the slot list sees the newest autosave
    assert loaded.warnings == []


def test_a_torn_journal_line_is_dropped_not_fatal(tmp_path):
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    store.append("a", [_scene(1, 0)], {"current": 1}, SlotMeta(name="a", turn=1))
    with open(tmp_path / "slots" / "a" / "journal.jsonl", "ab") as handle:
        handle.write(b'0badc0de {"scenes":[{"id":2')   # a crash mid-write
    loaded = store.read("a")
    assert loaded.snapshot["play"] == {"current": 1}
    assert any("cut off" in w for w in loaded.warnings)


def test_a_damaged_snapshot_falls_back_to_the_newest_backup(tmp_path):
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    store.write_snapshot("a", _snapshot([_scene(0), _scene(1, 0)]), SlotMeta(name="a"))
    story = tmp_path / "slots" / "a" / "story.json"
    story.write_bytes(story.read_bytes()[:20])   # truncated
    loaded = store.read("a")
    assert [s["id"] for s in loaded.snapshot["scenes"]] == [0]
    assert any("backup" in w for w in loaded.warnings)


def test_newer_and_foreign_saves_are_refused(tmp_path):
    store = SaveStore(tmp_path)
    folder = tmp_path / "slots" / "x"
    folder.mkdir(parents=True)
    (folder / "story.json").write_text(json.dumps({"format": "dreamreel-save", "version": 99}))
    with pytest.raises(SaveError, match="newer Dreamreel"):
        store.read("x")
    (folder / "story.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(SaveError, match="not a Dreamreel save"):
        store.read("x")


def test_slot_names_cannot_escape(tmp_path):
    for bad in ["../evil", "a/b", "", ".hidden", "x" * 80]:
        with pytest.raises(SaveError):
            check_name(bad)
    assert check_name("Chapter 2") == "Chapter 2"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_gives_a_clear_error(tmp_path):
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    os.chmod(tmp_path / "slots" / "a", 0o500)
    try:
        with pytest.raises(SaveError, match="not writable"):
            store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    finally:
        os.chmod(tmp_path / "slots" / "a", 0o700)
    assert store.read("a").snapshot["scenes"][0]["id"] == 0


def test_a_full_disk_leaves_the_journal_intact(tmp_path, monkeypatch):
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    store.append("a", [_scene(1, 0)], {"current": 1}, SlotMeta(name="a", turn=1))
    real_fsync = os.fsync

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SaveError, match="full"):
        store.append("a", [_scene(2, 1)], {"current": 2}, SlotMeta(name="a", turn=2))
    monkeypatch.setattr(os, "fsync", real_fsync)
    loaded = store.read("a")
    assert loaded.snapshot["play"] == {"current": 1} and loaded.warnings == []
