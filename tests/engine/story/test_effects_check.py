"""A language model's effects are checked against the world: ids exist, numbers stay small,
junk is dropped (with a note saying why), and what remains applies cleanly."""

import pytest

from engine.story.effects_check import (MAX_STEP, character_id, check_effects, flag_id, item_name,
                                  location_of, world_terms)
from engine.story.schema import Effects
from engine.story.state import apply_effects
from engine.worlds.loading import load_world


@pytest.fixture(scope="module")
def coast():
    return load_world("lantern_coast")


@pytest.fixture(scope="module")
def terms(coast):
    return world_terms(coast)


def test_the_garbage_a_small_model_wrote_is_dropped(coast):
    state = coast.initial_state()
    raw = Effects(adjust={"rebel: ": 2038141759605623}, set_flags={"": ""},
                  characters_enter=["You"])
    checked, notes = check_effects(raw, coast, state)
    assert checked.is_empty()
    assert len(notes) == 3
    assert any("'rebel: '" in n and "not a flag name" in n for n in notes)
    assert any("characters_enter 'You'" in n and "the player" in n for n in notes)
    after = apply_effects(state, checked)
    assert dict(after.flags) == dict(state.flags) and after.present == ()


def test_character_names_map_to_the_worlds_ids(terms):
    assert character_id("Maren", terms) == "maren"
    assert character_id("Maren Holt", terms) == "maren"
    assert character_id("maren", terms) == "maren"
    assert character_id("Lieutenant Cole", terms) == "cole"
    assert character_id("Ansel Cole", terms) == "cole"
    for nobody in ("You", "you", "the player", "Wren", "Bob", "", "Captain Nemo"):
        assert character_id(nobody, terms) is None, nobody


def test_people_enter_once_and_only_those_present_leave(coast):
    state = apply_effects(coast.initial_state(), Effects(characters_enter=["maren"]))
    raw = Effects(characters_enter=["Maren Holt", "Ivy", "ivy marsh", "Stranger"],
                  characters_leave=["Silas", "Maren"])
    checked, notes = check_effects(raw, coast, state)
    assert checked.characters_enter == ["ivy"]
    assert checked.characters_leave == ["maren"]
    assert any("already present" in n for n in notes)
    assert any("'Silas'" in n and "not present" in n for n in notes)


def test_places_are_the_worlds_own(coast, terms):
    assert location_of("The Harbour", terms) == "harbour"
    assert location_of("the old lighthouse", terms) == "lighthouse"
    assert location_of("Atlantis", terms) is None
    orbit = world_terms(load_world("hollow_orbit"))
    assert location_of("Cryo Bay", orbit) == "cryo_bay"
    assert location_of("reactor", orbit) == "reactor"       # named only in a condition
    state = coast.initial_state()                          # at the harbour
    checked, notes = check_effects(Effects(location="Atlantis"), coast, state)
    assert checked.location is None and "not a place" in notes[0]
    assert check_effects(Effects(location="Harbour"), coast, state)[0].location is None
    assert check_effects(Effects(location="Lighthouse"), coast, state)[0].location == "lighthouse"


def test_numbers_move_a_little_and_keep_their_type(coast):
    state = coast.initial_state()                          # coin = 5, maren_trust = 0
    raw = Effects(adjust={"Maren trust": 9, "coin": -40, "storm warnings": 2},
                  set_flags={"coin": True, "met_maren": 3, "bell mood": "  grim  "})
    checked, notes = check_effects(raw, coast, state)
    assert checked.adjust == {"maren_trust": MAX_STEP, "coin": -MAX_STEP, "storm_warnings": 2}
    assert "coin" not in checked.set_flags                 # a number stays a number
    assert checked.set_flags["bell_mood"] == "grim"
    assert any("clamped" in n for n in notes)
    after = apply_effects(state, checked)
    assert after.flag("coin") == 2 and after.flag("maren_trust") == 3


def test_flag_names_must_be_well_formed():
    assert flag_id("maren_trust") == "maren_trust"
    assert flag_id("Maren trust") == "maren_trust"
    for junk in ("", " ", "rebel: ", "x", "{flag}", "a" * 60, "9lives"):
        assert flag_id(junk) is None, junk


def test_items_are_cleaned_and_only_carried_ones_removed(coast):
    state = coast.initial_state()                          # lantern, keeper_keys
    raw = Effects(add_items=["  a rusty KEY. ", "{x}", "Lantern", "nothing",
                             "an extraordinarily long and very ornate brass spyglass"],
                  remove_items=["keeper keys", "sword"])
    checked, notes = check_effects(raw, coast, state)
    assert checked.add_items[0] == "rusty KEY"
    assert len(checked.add_items) == 2 and len(checked.add_items[1]) <= 30
    assert checked.remove_items == ["keeper_keys"]
    assert any("'sword'" in n and "not carried" in n for n in notes)
    assert item_name("\x00\x07") is None and item_name("   ") is None
    after = apply_effects(state, checked)
    assert "keeper_keys" not in after.inventory and "rusty KEY" in after.inventory
