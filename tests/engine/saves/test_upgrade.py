"""A story saved by the previous save format (version 1) loads, plays on and is saved anew.

tests/engine/saves/data/v1-lantern_coast is a real slot written by Dreamreel with save version
1: a full save after seven turns of The Lantern Coast (a typed action and a retelling among
them) and two autosave journal lines after it, whose play state has no seed (version 1 kept the
seed at the top of story.json).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from engine.saves.upgrades import VERSION
from engine.session.core import Session
from engine.session.jobs import InlineRunner

DATA = Path(__file__).parent / "data" / "v1-lantern_coast"


def saved_v1(config):
    slots = config.saves_dir / "slots"
    slots.mkdir(parents=True)
    shutil.copytree(DATA, slots / DATA.name)
    assert orjson.loads((DATA / "story.json").read_bytes())["version"] == 1
    return slots / DATA.name


def test_a_version_1_save_loads_with_its_whole_play_state(config):
    config = config.with_changes(game={"painter": "none"})
    saved_v1(config)
    session = Session.resume(config, DATA.name, runner=InlineRunner())
    try:
        events = session.wait()
        assert session.seed == 20261207          # moved from the top into the play state
        assert (session.current, session.turn, len(session.graph)) == (33, 7, 39)
        assert session.author_note == "Keep it quiet and cold."
        assert set(session.characters) == {"ivy", "silas"}
        assert any("older Dreamreel" in str(e.payload) for e in events if e.is_message)
        assert [session.scene(n).title for n in session.path()] == [
            "The Ferry to Skerrow", "Ivy Marsh", "Skerrow Harbour", "The Harbourmaster's Story",
            "The Cliff Path", "Search the shore for footprints", "The Keeper's Cottage",
            "The Keeper's Log"]
        typed = session.scene(session.path()[5])
        assert typed.free_text and len(typed.versions) == 2     # the retelling is kept
        assert session.check_invariants() == []
    finally:
        session.close()


def test_it_plays_on_and_is_saved_in_the_current_format(config):
    config = config.with_changes(game={"painter": "none"})
    folder = saved_v1(config)
    session = Session.resume(config, DATA.name, runner=InlineRunner())
    session.wait()
    path_before = session.path()
    session.choose(0)
    session.wait()
    where, seed = session.current, session.seed
    assert session.flush_saves()
    session.close()
    snapshot = orjson.loads((folder / "story.json").read_bytes())
    assert snapshot["version"] == VERSION and "seed" not in snapshot
    assert snapshot["play"]["seed"] == seed == 20261207
    again = Session.resume(config, DATA.name, runner=InlineRunner())
    try:
        assert again.current == where and again.path()[:-1] == path_before
        assert again.seed == seed and again.turn == 8
    finally:
        again.close()


V2 = Path(__file__).parent / "data" / "v2-hollow_orbit"


def test_a_version_2_save_loads_and_the_player_model_reads_its_path(config):
    """tests/engine/saves/data/v2-hollow_orbit: a real slot written with save version 2 (seven
    turns of Hollow Orbit, one a typed action, as a snapshot and seven journal lines), from
    before scenes recorded the player's pace. It loads, its scenes read as unmeasured, and the
    player model is derived from its path."""
    config = config.with_changes(game={"painter": "none"})
    slots = config.saves_dir / "slots"
    slots.mkdir(parents=True)
    shutil.copytree(V2, slots / V2.name)
    assert orjson.loads((V2 / "story.json").read_bytes())["version"] == 2
    session = Session.resume(config, V2.name, runner=InlineRunner())
    try:
        session.wait()
        assert (session.current, session.turn, session.seed) == (26, 7, 20270115)
        path = [session.scene(n) for n in session.path()]
        assert [s.title for s in path][4] == "Thank the voice on the speaker kindly"
        assert all(scene.pace_ms == 0 for scene in path)
        profile = session.player_profile()
        assert profile.turns == 7
        assert profile.tendency("kind").value > 0     # the kind words typed on the way
        assert session.check_invariants() == []
        session.choose(0, seconds=3.0)
        session.wait()
        assert session.flush_saves()
    finally:
        session.close()
    again = Session.resume(config, V2.name, runner=InlineRunner())
    try:
        assert again.scene().pace_ms == 3000 and again.player_profile().turns == 8
    finally:
        again.close()


V3 = Path(__file__).parent / "data" / "v3-lantern_coast"


def test_a_version_3_save_loads_with_the_worlds_suggested_player(config):
    """tests/engine/saves/data/v3-lantern_coast: a real slot written with save version 3 (five
    turns of The Lantern Coast, a full save after four and a journal line after it), from
    before stories held the player's profile. The player is the world's suggested one, and a
    profile set now is saved with the story."""
    config = config.with_changes(game={"painter": "none"})
    slots = config.saves_dir / "slots"
    slots.mkdir(parents=True)
    shutil.copytree(V3, slots / V3.name)
    assert orjson.loads((V3 / "story.json").read_bytes())["version"] == 3
    session = Session.resume(config, V3.name, runner=InlineRunner())
    try:
        session.wait()
        assert (session.current, session.turn, session.seed) == (14, 5, 20270301)
        hero = session.player()
        assert (hero.name, hero.pronouns) == ("Wren", "they/them") and "oilskin" in hero.look
        session.set_player(name="Mira", look="tall, a red cloak")
        session.choose(0)
        session.wait()
        assert session.flush_saves()
    finally:
        session.close()
    again = Session.resume(config, V3.name, runner=InlineRunner())
    try:
        assert again.player().name == "Mira" and again.player().look == "tall, a red cloak"
        assert again.turn == 6
    finally:
        again.close()
