from engine.story.schema import Effects
from engine.story.state import FLAG_MAX, MAX_INVENTORY, WorldState, apply_effects, initial_state


def test_effects_add_remove_and_clamp():
    state = initial_state("harbour", ["lantern"], {"coin": 3})
    after = apply_effects(state, Effects(add_items=["rope"], remove_items=["sword"],
                                         adjust={"coin": -1, "fame": 5},
                                         set_flags={"Met Maren": True}))
    assert after.inventory == ("lantern", "rope")        # the sword was never held
    assert after.flags["coin"] == 2 and after.flags["fame"] == 5
    assert after.flags["met_maren"] is True               # names become identifiers
    assert after.depth == 1 and state.depth == 0          # the old state is untouched
    huge = apply_effects(after, Effects(adjust={"coin": 10**9}))
    assert huge.flags["coin"] == FLAG_MAX


def test_characters_enter_and_leave_and_location():
    state = apply_effects(WorldState(), Effects(characters_enter=["Maren Holt", "tobias"],
                                                location="cliffs"), source="s1")
    assert state.present == ("maren_holt", "tobias")
    assert state.location == "cliffs" and "s1" in state.seen
    state = apply_effects(state, Effects(characters_leave=["Maren Holt"]))
    assert state.present == ("tobias",)


def test_inventory_is_capped():
    state = WorldState()
    for index in range(MAX_INVENTORY + 10):
        state = apply_effects(state, Effects(add_items=[f"item{index}"]))
    assert len(state.inventory) == MAX_INVENTORY


def test_removing_is_case_insensitive_and_string_flags_capped():
    state = initial_state(inventory=["Brass Key"])
    state = apply_effects(state, Effects(remove_items=["brass key"], set_flags={"mood": "x" * 99}))
    assert state.inventory == ()
    assert len(state.flags["mood"]) == 40
