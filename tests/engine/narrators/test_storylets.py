"""The storylet narrator: deterministic, intent-aware, follows authored links, reaches endings."""

import pytest

from engine.narrators import Action, NarrationRequest
from engine.narrators.storylets import StoryletNarrator, infer_intent
from engine.story.schema import SceneDraft
from engine.story.seeds import rng_for
from engine.story.state import apply_effects
from engine.worlds.loading import load_world


@pytest.fixture(scope="module")
def world():
    return load_world("lantern_coast")


NARRATOR = StoryletNarrator()


def _tell(world, state, action, seed):
    return NARRATOR.narrate(NarrationRequest(world=world, state=state, action=action,
                                                       seed=seed, node=1))


def test_opening_is_the_start_storylet(world):
    draft = _tell(world, world.initial_state(), Action("Begin", opening=True), 1)
    assert isinstance(draft, SceneDraft)
    assert draft.source == world.start
    assert 2 <= len(draft.choices) <= 4 and draft.narration


def test_same_seed_same_scene_and_seeds_vary(world):
    state = world.initial_state()
    action = Action("Look around", intent="explore")
    first = {_tell(world, state, action, seed).source for seed in range(30)}
    assert _tell(world, state, action, 5) == _tell(world, state, action, 5)
    assert len(first) > 1


def test_goto_is_followed_when_it_fits(world):
    opening = _tell(world, world.initial_state(), Action("Begin", opening=True), 1)
    state = apply_effects(world.initial_state(), opening.effects, opening.source)
    linked = [c for c in opening.choices if c.goto]
    assert linked, "the opening storylet should link onward"
    draft = _tell(world, state, Action(linked[0].label, linked[0].intent, linked[0].goto), 3)
    assert draft.source == linked[0].goto


def test_typed_actions_find_intent_and_words():
    assert infer_intent("I ask her about the lighthouse") == "talk"
    assert infer_intent("search the desk carefully") == "investigate"
    assert infer_intent("run away!") == "flee"
    assert infer_intent("hum a tune") == "explore"


def test_random_play_never_dead_ends_and_reaches_endings(world):
    narrator = NARRATOR
    endings = set()
    for game in range(16):
        state = world.initial_state()
        draft = _tell(world, state, Action("Begin", opening=True), game)
        for turn in range(120):
            state = apply_effects(state, draft.effects, draft.source)
            if draft.ending:
                endings.add(draft.source)
                break
            assert 2 <= len(draft.choices) <= 4
            choice = rng_for(game, turn).choice(draft.choices)
            draft = narrator.narrate(NarrationRequest(
                world=world, state=state, seed=game * 1000 + turn, node=turn,
                action=Action(choice.label, choice.intent, choice.goto or "")))
    assert len(endings) >= 2
