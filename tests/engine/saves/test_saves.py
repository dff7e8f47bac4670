import json
import os

import pytest

from engine.errors import SaveError
from engine.saves.store import SaveStore, SlotMeta, check_name


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


# -- hardening (issue 11) ------------------------------------------------------------------------
def test_a_meta_json_nested_200000_deep_is_a_damaged_slot_not_a_crash(tmp_path):
    """Finding 11: a deeply nested meta.json crashed resume with a RecursionError."""
    store = SaveStore(tmp_path)
    store.write_snapshot("good", _snapshot([_scene(0)]), SlotMeta(name="good", saved_at=1))
    store.write_snapshot("deep", _snapshot([_scene(0)]), SlotMeta(name="deep", saved_at=2))
    for depth in (200_000, 30_000):     # too big to read; small enough, but too deep
        (tmp_path / "slots" / "deep" / "meta.json").write_bytes(b"[" * depth + b"]" * depth)
        with pytest.raises(SaveError, match="damaged|not a Dreamreel save"):
            store.meta("deep")
        listing = {name: (meta, problem) for meta, name, problem in store.list()}
        assert listing["deep"][0] is None and "meta.json" in listing["deep"][1]
        assert store.latest() == "good"


def test_slot_details_of_the_wrong_type_or_size_are_refused(tmp_path):
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    meta = tmp_path / "slots" / "a" / "meta.json"
    for bad in (b'{"name": "a", "saved_at": "yesterday"}', b'{"name": "a", "turn": [1]}',
                b'{"name": "a", "scenes": 1e400}', b"[1, 2]",
                b'{"name": "a", "world": "' + b"x" * 100_000 + b'"}'):
        meta.write_bytes(bad)
        with pytest.raises(SaveError):
            store.meta("a")
        assert store.list()[0][2]        # listed as damaged, with the reason


def test_a_journal_line_without_an_end_is_not_read_whole(tmp_path):
    import tracemalloc
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    store.append("a", [_scene(1, 0)], {"current": 1}, SlotMeta(name="a", turn=1))
    with open(tmp_path / "slots" / "a" / "journal.jsonl", "ab") as handle:
        handle.truncate(handle.tell() + (200 << 20))      # 200 MB of zeros, no newline
    tracemalloc.start()
    try:
        loaded = store.read("a")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.snapshot["play"] == {"current": 1}
    assert any("cut off" in w for w in loaded.warnings)
    assert peak < 32 << 20


def test_a_failed_full_save_leaves_no_half_slot_and_no_temp_files(tmp_path, monkeypatch):
    """Finding 5 (the files): a full disk during a full save changes nothing."""
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a", turn=1))
    real_fsync = os.fsync
    calls = []

    def full(fd):
        calls.append(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    for name in ("a", "b"):
        with pytest.raises(SaveError, match="full"):
            store.write_snapshot(name, _snapshot([_scene(0), _scene(1, 0)]),
                                 SlotMeta(name=name, turn=2), b"png")
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert calls
    assert not (tmp_path / "slots" / "b").exists()
    assert sorted(p.name for p in (tmp_path / "slots" / "a").iterdir()) == \
        ["journal.jsonl", "meta.json", "story.json"]
    assert store.meta("a").turn == 1 and len(store.read("a").snapshot["scenes"]) == 1
    assert [name for _, name, _ in store.list()] == ["a"]


def test_a_save_killed_before_its_renames_keeps_the_old_story(tmp_path):
    """A crash after the new snapshot is written but before story.json is replaced: the old
    story (and its journal) is what loads, without a word of damage; the next save clears
    the leftover."""
    store = SaveStore(tmp_path)
    store.write_snapshot("a", _snapshot([_scene(0)]), SlotMeta(name="a"))
    store.append("a", [_scene(1, 0)], {"current": 1}, SlotMeta(name="a", turn=1))
    folder = tmp_path / "slots" / "a"
    (folder / ".story.json.new").write_bytes(b'{"format": "dreamreel-save", "vers')  # cut off
    loaded = store.read("a")
    assert loaded.snapshot["play"] == {"current": 1} and not loaded.warnings
    store.write_snapshot("a", loaded.snapshot, SlotMeta(name="a", turn=2))
    assert not (folder / ".story.json.new").exists()


def test_an_interrupted_first_save_is_recovered_from_its_finished_snapshot(tmp_path):
    store = SaveStore(tmp_path)
    folder = tmp_path / "slots" / "a"
    folder.mkdir(parents=True)
    (folder / ".story.json.new").write_bytes(json.dumps(_snapshot([_scene(0)])).encode())
    loaded = store.read("a")
    assert loaded.snapshot["scenes"][0]["id"] == 0 and not loaded.warnings
    assert any("interrupted save" in note for note in loaded.notes)
