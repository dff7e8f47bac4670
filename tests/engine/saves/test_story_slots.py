"""Every story keeps its own slot: a new game never touches another story's saves."""

import time

import pytest

from engine.errors import SaveError
from engine.session.jobs import InlineRunner
from engine.saves.store import SaveStore, story_slot_base
from engine.session.core import Session


def play(config, world, turns):
    session = Session.new(config.with_changes(game={"painter": "none", "world": world}),
                          runner=InlineRunner())
    session.wait()
    for _ in range(turns):
        if not session.choices():
            break
        session.choose(0)
        session.wait()
        session.autosave()
    return session


def test_a_new_story_never_touches_another_storys_slot(config):
    a = play(config, "lantern_coast", 4)
    a_slot, a_scenes, a_turn = a.slot, len(a.graph), a.turn
    a.flush_saves()
    a.close()
    assert a_slot == story_slot_base("lantern_coast")
    b = play(config, "hollow_orbit", 1)
    assert b.slot == story_slot_base("hollow_orbit") and b.slot != a_slot
    b.flush_saves()
    b.close()
    store = SaveStore(config.saves_dir)
    listed = {name: meta for meta, name, _ in store.list()}
    assert listed[a_slot].world == "lantern_coast" and listed[a_slot].turn == a_turn
    assert listed[a_slot].scenes == a_scenes
    assert store.latest() == b.slot                         # Continue: the newest story
    again = Session.resume(config.with_changes(game={"painter": "none"}), a_slot,
                           runner=InlineRunner())
    assert again.slot == a_slot and len(again.graph) == a_scenes and again.turn == a_turn
    again.close()


def test_fresh_names_number_without_gaps(config):
    store = SaveStore(config.saves_dir)
    when = time.mktime((2026, 12, 7, 12, 0, 0, 0, 0, -1))
    assert store.fresh_name("lantern_coast", when) == "lantern_coast-2026-12-07"
    (store.slots_dir / "lantern_coast-2026-12-07").mkdir(parents=True)
    assert store.fresh_name("lantern_coast", when) == "lantern_coast-2026-12-07-2"
    (store.slots_dir / "lantern_coast-2026-12-07-3").mkdir()
    assert store.fresh_name("lantern_coast", when) == "lantern_coast-2026-12-07-2"
    (store.slots_dir / "lantern_coast-2026-12-07-2").mkdir()
    assert store.fresh_name("lantern_coast", when) == "lantern_coast-2026-12-07-4"


def test_two_stories_of_one_world_on_one_day_get_two_slots(config):
    a = play(config, "lantern_coast", 1)
    a.flush_saves()
    b = play(config, "lantern_coast", 1)       # while a is still open
    assert b.slot == f"{a.slot}-2"
    a.close()
    b.close()


def test_an_old_autosave_slot_still_loads_and_keeps_its_name(config):
    old = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                      slot="autosave")
    old.wait()
    old.choose(0)
    old.wait()
    old.autosave()
    old.flush_saves()
    scenes = len(old.graph)
    old.close()
    store = SaveStore(config.saves_dir)
    assert "autosave" in [name for _, name, _ in store.list()]
    resumed = Session.resume(config.with_changes(game={"painter": "none"}), runner=InlineRunner())
    assert resumed.slot == "autosave" and len(resumed.graph) == scenes
    resumed.close()


def test_delete_moves_to_trash_and_undo_restores(config):
    a = play(config, "lantern_coast", 2)
    a.flush_saves()
    store = SaveStore(config.saves_dir)
    with pytest.raises(SaveError, match="open"):
        store.delete(a.slot)                   # a story being played is not deleted
    a.close()
    deleted = store.delete(a.slot)
    assert a.slot not in [name for _, name, _ in store.list()]
    assert deleted.trashed.exists()
    store.restore(deleted)
    assert store.meta(a.slot).turn == 2
    assert not deleted.trashed.exists()


def test_trash_left_by_a_game_that_is_gone_is_emptied(config):
    import subprocess
    import sys
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    store = SaveStore(config.saves_dir)
    left = store.root / ".trash" / f"{gone.stdout.strip()}-1" / "old"
    left.mkdir(parents=True)
    a = play(config, "lantern_coast", 1)
    a.flush_saves()
    a.close()
    store.delete(a.slot)
    assert not left.parent.exists()
