"""Typed actions with the storylet narrator: read against the world, answered by a storylet that
fits or by a reaction in place; retellings keep the beat."""

import shutil

import pytest

from engine.session.jobs import InlineRunner
from engine.narrators import Action, NarrationRequest, RecentScene
from engine.narrators.matching import parse_action, second_person, stem
from engine.narrators.storylet_index import StoryletIndex
from engine.narrators.reactions import split_source
from engine.narrators.storylets import StoryletNarrator
from engine.story.schema import Effects
from engine.session.core import Session
from engine.story.state import apply_effects
from engine.worlds.loading import default_reactions, load_world

NARRATOR = StoryletNarrator()


@pytest.fixture(scope="module")
def coast():
    return load_world("lantern_coast")


@pytest.fixture(scope="module")
def orbit():
    return load_world("hollow_orbit")


class Play:
    """A story told by the storylet narrator alone, as the Session would tell it."""

    def __init__(self, world, seed=5):
        self.world, self.seed, self.turn = world, seed, 0
        self.state, self.recent = world.initial_state(), []
        self.draft = self.tell(Action("Begin", opening=True))

    def request(self, action, **extras):
        return NarrationRequest(self.world, self.state, action, seed=self.seed * 100 + self.turn,
                                node=self.turn, recent=tuple(self.recent[-6:]), extras=extras)

    def tell(self, action):
        draft = NARRATOR.narrate(self.request(action))
        self.turn += 1
        self.state = apply_effects(self.state, draft.effects, draft.source)
        self.recent.append(RecentScene(draft.title, draft.narration, action.label, draft.source))
        self.draft = draft
        return draft

    def type(self, text):
        return self.tell(Action(text, free_text=True))

    def choose(self, index):
        choice = self.draft.choices[index]
        return self.tell(Action(choice.label, choice.intent, choice.goto or ""))


# -- reading the words -----------------------------------------------------------------------

def test_first_person_and_imperative_are_said_back_in_the_second_person(coast):
    for typed in ("I light the lamp", "light the lamp", "Light the lamp.", "LIGHT THE LAMP",
                  "please, I'll light the lamp"):
        parsed = parse_action(typed, coast)
        assert parsed.you == "You light the lamp.", typed
        assert (parsed.verb, parsed.object, parsed.thing) == ("light", "the lamp", "lamp")
        assert parsed.intent == "use"
    assert parse_action("I try to open my chest", coast).you == "You try to open your chest."
    assert parse_action("I try to open my chest", coast).verb == "open"
    assert parse_action("I am lost", coast).you == "You are lost."
    assert second_person("Ask Ivy to help me find my brother") == \
        "Ask Ivy to help you find your brother"


def test_objects_targets_speech_and_nonsense(coast):
    jump = parse_action("Jump into the sea", coast)
    assert (jump.verb, jump.object, jump.intent) == ("jump", "the sea", "explore")
    kiss = parse_action("kiss ivy", coast)
    assert kiss.target == "ivy" and kiss.you == "You kiss Ivy." and kiss.intent == "talk"
    assert parse_action("walk across the marsh", coast).target == ""   # a word, not Ivy Marsh
    hello = parse_action("hello?", coast)
    assert hello.speech and hello.intent == "talk" and hello.you == 'You ask, "Hello?"'
    index = StoryletIndex(coast)
    assert parse_action("xyzzy", coast, vocabulary=index.vocabulary).nonsense
    assert parse_action("asdf qwerty", coast, vocabulary=index.vocabulary).nonsense
    bare = parse_action("the lens", coast, vocabulary=index.vocabulary)
    assert not bare.nonsense and bare.you == "You look at the lens."
    both = parse_action("Climb to the lamp room and light the lamp", coast)
    assert both.intent == "travel" and both.first == "You climb to the lamp room."
    assert both.you == "You climb to the lamp room and light the lamp."


def test_stems_join_a_words_forms():
    assert stem("lamps") == stem("lamp") and stem("lighting") == stem("lit") == stem("light")
    assert stem("used") == stem("using") == stem("use")
    assert stem("climbed") == stem("climbing") == stem("climb")


def test_bm25_ranks_the_storylet_about_the_words_first(coast):
    index = StoryletIndex(coast)
    query = parse_action("read the keeper's log", coast).query
    ranked = sorted(coast.storylets, key=lambda sid: -index.match(query, sid).score)
    assert ranked[0] == "jory_log_read"
    assert index.match(query, "jory_log_read").coverage == 1.0
    assert index.match(parse_action("kiss Ivy", coast).query, "ivy_on_the_quay").coverage < 0.6


# -- fitting storylets and reactions in place --------------------------------------------------

def test_the_issues_lantern_coast_examples(coast):
    sources, moved = set(), []
    for typed in ("Kiss Ivy", "Light the lamp", "Jump into the sea", "xyzzy"):
        play = Play(coast, seed=5)
        before = play.state.location
        draft = play.type(typed)
        sources.add(draft.source)
        moved.append(play.state.location != before)
        assert parse_action(typed, coast).named_in(draft.narration), (typed, draft.narration)
        assert "Drowned Wall" not in draft.title
    assert len(sources) == 4 and not any(moved)


def test_climbing_to_the_lamp_room_and_lighting_it_stays_at_the_lamp(coast):
    play = Play(coast)
    play.type("go to the lighthouse")
    assert play.state.location == "lighthouse"
    play.type("climb to the lamp room")
    assert play.draft.source == "lamp_room"
    draft = play.type("Climb to the lamp room and light the lamp")
    assert play.state.location == "lighthouse"
    assert draft.source == "lighthouse_first_night"
    assert "Gull" not in draft.title + draft.narration[:200]
    assert draft.narration.startswith("You light the lamp")


def test_hollow_orbit_punch_and_hello_answer_in_place(orbit):
    for typed in ("Punch the wall", "hello?"):
        play = Play(orbit, seed=5)
        choices = [c.label for c in play.draft.choices]
        draft = play.type(typed)
        assert split_source(draft.source) == (split_source(draft.source)[0], "wake_cryo")
        assert play.state.location == "cryo_bay" and draft.effects == Effects()
        assert [c.label for c in draft.choices] == choices
        assert parse_action(typed, orbit).named_in(draft.narration)
        assert draft.source.split(":")[1] in {r.id for r in orbit.reactions}


def test_a_reaction_gives_back_the_same_choices_even_after_another(coast):
    play = Play(coast)
    play.choose(1)
    choices = [(c.label, c.goto) for c in play.draft.choices]
    for typed in ("xyzzy", "dance a jig", "hello?"):
        draft = play.type(typed)
        assert [(c.label, c.goto) for c in draft.choices] == choices
        assert draft.image_prompt and not draft.ending
    assert play.state.location == "harbour"


def test_words_a_storylet_only_mentions_in_passing_do_not_reach_it(orbit):
    play = Play(orbit)
    play.type("go to the reactor")
    play.type("talk to Petra")
    assert play.draft.source == "petra_ambush"
    assert split_source(play.type("sell my boots").source) is not None
    assert play.type("look around").source == "reactor_linger"    # the place's own scene


def test_travel_moves_only_to_the_place_it_names(coast):
    play = Play(coast)
    assert play.type("walk up to the moor").source == "path_to_moor"
    assert play.state.location == "moor"
    before = play.state.location
    play.type("walk somewhere nice")
    assert play.state.location == before          # names no place: a reaction
    play.type("light the lamp")                    # the lamp is at the lighthouse: not travel
    assert play.state.location == before


def test_a_storylet_told_for_words_opens_with_them(coast):
    play = Play(coast)
    draft = play.type("ask Ivy what happened to Jory")
    assert draft.source == "ivy_on_the_quay"
    assert draft.narration.startswith("You ask Ivy what happened to Jory.")
    play = Play(coast)
    play.type("go to the lighthouse")
    draft = play.type("light the lamp")               # the lamp room, before its first night
    assert draft.source == "lamp_room"
    assert draft.narration.startswith("You set out to light the lamp.")


def test_speaking_a_question_the_world_knows_finds_its_storylet(orbit):
    play = Play(orbit)
    draft = play.type("What day is it?")
    assert draft.source == "cantor_first_words"
    assert draft.narration.startswith("You ask the light what day it is.")  # said once


def test_reactions_use_the_players_words_and_the_world(coast):
    play = Play(coast)
    draft = play.type("light the lamp")
    assert "lamp" in draft.narration and "tower" in draft.narration
    assert draft.title == "Light the lamp"
    nonsense = play.type("xyzzy")
    assert "xyzzy" in nonsense.narration and nonsense.title == "\u201cXyzzy\u201d"


def test_a_world_without_reactions_answers_with_the_engines(tmp_path, coast):
    shutil.copytree(coast.root, tmp_path / "bare")
    (tmp_path / "bare" / "reactions.toml").unlink()
    world = load_world(tmp_path / "bare")
    assert world.reactions == []
    play = Play(world)
    draft = play.type("Punch the wall")
    reaction = split_source(draft.source)[0]
    assert reaction in {r.id for r in default_reactions()}
    assert "punch the wall" in draft.narration


def test_a_broken_reaction_gives_way_to_the_engines(tmp_path, coast):
    shutil.copytree(coast.root, tmp_path / "broken")
    (tmp_path / "broken" / "reactions.toml").write_text(
        '[[reaction]]\nid = "bad"\nintents = ["fight"]\ntext = "{{ nope.nope }}"\n')
    draft = Play(load_world(tmp_path / "broken")).type("Punch the wall")
    assert split_source(draft.source)[0].startswith("default_")


def test_after_a_language_model_scene_a_reaction_offers_plain_choices(coast):
    request = NarrationRequest(coast, coast.initial_state(), Action("xyzzy", free_text=True),
                               seed=1, node=1,
                               recent=(RecentScene("A Quay", "Gulls.", "Begin", ""),))
    draft = NARRATOR.narrate(request)
    assert split_source(draft.source)[1] == ""
    assert len(draft.choices) == 2


def test_what_cannot_wait_is_told_whatever_is_typed(orbit):
    play = Play(orbit)
    play.state = apply_effects(play.state, Effects(location="hydroponics",
                                                   adjust={"oxygen": -5}), "")
    for typed in ("xyzzy", "look around", "kiss CANTOR"):
        draft = NARRATOR.narrate(play.request(Action(typed, free_text=True)))
        assert draft.source == "ending_out_of_air" and draft.ending


# -- retelling keeps the beat --------------------------------------------------------------------

def test_an_ending_retold_stays_an_ending(orbit):
    state = apply_effects(orbit.initial_state(),
                          Effects(location="hydroponics", adjust={"oxygen": -5}), "wake_cryo")
    for seed in range(6):
        action = Action("Push into the overgrowth", "explore")
        first = NARRATOR.narrate(NarrationRequest(orbit, state, action, seed=seed, node=3))
        assert first.ending
        again = NARRATOR.narrate(NarrationRequest(orbit, state, action, seed=seed + 99, node=3,
                                                  extras={"avoid_sources": (first.source,)}))
        assert again.ending and not again.choices


def test_a_storylet_retold_stays_in_its_place_and_kind(coast):
    for seed in range(8):
        play = Play(coast, seed=seed)
        play.choose(1)
        state, recent = play.state, tuple(play.recent)
        for index, choice in enumerate(play.draft.choices):
            action = Action(choice.label, choice.intent, choice.goto or "")
            request = NarrationRequest(coast, state, action, seed=seed, node=2, recent=recent)
            first = NARRATOR.narrate(request)
            place = first.effects.location or state.location
            again = NARRATOR.narrate(NarrationRequest(
                coast, state, action, seed=seed + 7, node=2, recent=recent,
                extras={"avoid_sources": (first.source,)}))
            assert (again.effects.location or state.location) == place
            assert again.ending == first.ending


def test_a_reaction_retold_is_another_reaction_with_the_same_choices(coast):
    play = Play(coast)
    request = play.request(Action("Punch the wall", free_text=True))
    first = NARRATOR.narrate(request)
    again = NARRATOR.narrate(play.request(Action("Punch the wall", free_text=True),
                                          avoid_sources=(first.source,)))
    assert split_source(again.source) is not None
    assert split_source(again.source)[0] != split_source(first.source)[0]
    assert [c.label for c in again.choices] == [c.label for c in first.choices]


# -- through the Session ---------------------------------------------------------------------------

def test_the_session_answers_typed_actions_in_place(config):
    session = Session.new(config.with_changes(game={"painter": "none", "seed": 5}),
                          runner=InlineRunner())
    session.wait()
    home = session.current
    labels = [c.label for c in session.choices()]
    session.act("xyzzy")
    session.wait()
    scene = session.scene()
    assert split_source(scene.current.source) is not None
    assert [c.label for c in session.choices()] == labels
    assert session.state().location == session.graph.state_after(home).location
    session.regenerate()
    session.wait()
    assert split_source(session.scene().current.source) is not None
    assert len(session.scene().versions) == 2
    session.close()
