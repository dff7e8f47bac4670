"""The player model (issue 16, "the world knows you"): two scripted players, an aggressive and a
gentle one, play 40 turns on each shipped world with the storylet narrator and the same seed.
Their profiles differ as expected, the storylets they are shown differ, and a language-model
narrator's prompt carries a different profile line. Rollback restores the profile; a save
keeps it; the setting turns it off; the steering is the world's to map and the prompt's to word.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.config import load_config
from engine.narrators import Action, NarrationRequest
from engine.narrators.prompting import PromptBuilder
from engine.narrators.storylets import StoryletNarrator
from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.story.feelings import read_text, valence
from engine.story.graph import StoryGraph
from engine.story.player_model import EMPTY, PlayerModel, PlayerProfile
from engine.worlds.loading import BUILTIN_WORLDS, load_world
from tests.support.players import AGGRESSIVE, GENTLE, play, total_variation

WORLDS = ("lantern_coast", "hollow_orbit")
TURNS = 40
PROFILE_LINE = ("The player tends to", "The player seems")


def make_config(saves: Path, world: str = "lantern_coast", **game):
    return load_config(use_user_file=False).with_changes(
        game={"saves_dir": str(saves), "seed": 7, "painter": "none", "world": world, **game})


def profile_line(prompt: str) -> str:
    """The profile line of a prompt, or "" when it has none."""
    return next((line for line in prompt.splitlines() if line.startswith(PROFILE_LINE)), "")


class RealPromptNarrator(StoryletNarrator):
    """The storylet narrator that also renders the prompt a language model would get (the
    real PromptBuilder and templates) and keeps it, as the LLM narrators do."""

    def narrate(self, request, on_token=None):
        request.extras["prompt"] = PromptBuilder().build(request).text()
        return super().narrate(request, on_token)


@pytest.fixture(scope="module", params=WORLDS)
def played(request, tmp_path_factory):
    """Both scripted players, TURNS turns each on one world, same seed: (world, sessions,
    what each was shown). The sessions stay open for the tests of this module."""
    world = request.param
    config = make_config(tmp_path_factory.mktemp("saves"), world)
    sessions, shown = {}, {}
    for player in (AGGRESSIVE, GENTLE):
        session = Session.new(config, runner=InlineRunner(), read_only=True)
        shown[player.name] = play(session, player, TURNS)
        sessions[player.name] = session
    yield world, sessions, shown
    for session in sessions.values():
        session.close()


# -- the acceptance: two players, two worlds ---------------------------------------------------
def test_the_profiles_of_an_aggressive_and_a_gentle_player_differ_as_expected(played):
    _, sessions, _ = played
    rough = sessions["aggressive"].player_profile()
    kind = sessions["gentle"].player_profile()
    assert rough.turns == kind.turns == TURNS
    assert rough.tendency("kind").value < -0.2 < 0.2 < kind.tendency("kind").value
    assert rough.tendency("talkative").value < kind.tendency("talkative").value
    assert rough.tendency("bold").value > kind.tendency("bold").value
    assert rough.tone == "angry" and kind.tone == "happy"
    assert "kind" in kind.describe() and "kind" not in rough.describe()


def test_the_storylets_they_are_shown_differ_measurably(played):
    world_id, sessions, shown = played
    world = sessions["aggressive"].world
    rough, kind = shown["aggressive"], shown["gentle"]
    assert total_variation(rough.tags(world), kind.tags(world)) >= 0.25
    warm = ("kind", "talkative")

    def share(poles):
        return sum(poles[p] for p in warm) / max(1, sum(poles.values()))

    assert share(kind.poles(world)) > share(rough.poles(world)) + 0.15


def test_a_language_model_narrator_is_told_each_player_differently(played, tiny_chat_lm):
    pytest.importorskip("llguidance")
    _, sessions, _ = played
    lines = {}
    for name, session in sessions.items():
        session.switch_narrator(f"transformers:{tiny_chat_lm}?max_new_tokens=16")
        session.regenerate()            # the scene told again, by the tiny model
        session.wait()
        lines[name] = profile_line(session.prompt_for()["prompt"])
        expected = session.player_profile(session.scene().parent).describe()
        assert lines[name] == expected
    assert lines["aggressive"] != lines["gentle"]
    assert "kind" in lines["gentle"] and "happy" in lines["gentle"]
    assert "kind" not in lines["aggressive"] and "happy" not in lines["aggressive"]
    assert any(word in lines["aggressive"] for word in ("ruthless", "bold", "direct", "quiet"))


from tests.support.llm_fixtures import tiny_chat_lm  # noqa: E402,F401  (a fixture, by name)


# -- reading the player's words --------------------------------------------------------------
def test_vader_reads_kind_words_as_warm_and_rude_ones_as_hostile():
    assert valence("Thank you, friend. Can I help you carry that?") > 0.5
    assert valence("Out of my way, you stupid fool.") < -0.5
    assert valence("Open the door.") == 0.0
    assert read_text("Out of my way, you stupid fool.").strongest() == "angry"
    assert read_text("Smash it.").strongest() == "angry"        # VADER's neutral; a cue word
    assert read_text("I'm scared, run and hide!").strongest() == "afraid"
    assert read_text("I am so sorry, I miss him.").strongest() == "sad"
    assert read_text("Thank you, that is wonderful!").strongest() == "happy"
    assert read_text("Open the door.").strongest() == "calm"


def test_pace_reads_as_bold_or_cautious():
    quick, slow = EMPTY, EMPTY
    for _ in range(6):
        quick = quick.after("explore", pace_s=1.0)
        slow = slow.after("explore", pace_s=40.0)
    assert quick.tendency("bold").value > slow.tendency("bold").value
    assert quick.tendency("curious").value < slow.tendency("curious").value
    away = EMPTY.after("explore", pace_s=3000.0)      # the player was away: no reading
    assert away == EMPTY.after("explore")


def test_nothing_is_said_before_there_is_something_to_say():
    assert EMPTY.describe() == "" and EMPTY.tone == "calm"
    assert EMPTY.after("explore").describe() == ""     # one choice is no tendency yet
    assert EMPTY.after("fight", "Die, scum!").describe() == "The player seems angry right now."
    rough = EMPTY
    for _ in range(3):
        rough = rough.after("fight", "Die, scum!")
    assert rough.describe() == ("The player tends to be very ruthless and quiet, and seems angry "
                                "right now.")


# -- engine state: derived from the path -------------------------------------------------------
def test_rolling_back_restores_the_profile_as_it_was(tmp_path):
    session = Session.new(make_config(tmp_path), runner=InlineRunner())
    try:
        play(session, GENTLE, 6)
        seen = {node: session.player_profile(node) for node in session.path()}
        play(session, AGGRESSIVE, 10)
        assert session.player_profile().tone == "angry"
        while session.current not in seen:
            session.back()
        assert session.player_profile() == seen[session.current]
        session.back()
        session.back()
        assert session.player_profile() == seen[session.current]
        assert session.player_profile().tone != "angry"
        deepest = max(seen, key=lambda node: len(session.graph.path(node)))
        session.jump(deepest)
        assert session.player_profile() == seen[deepest]
    finally:
        session.close()


def test_a_save_keeps_the_profile_and_the_pace(tmp_path):
    config = make_config(tmp_path)
    session = Session.new(config, runner=InlineRunner(), slot="kept")
    play(session, AGGRESSIVE, 9)
    before = session.player_profile()
    chosen = [session.scene(n) for n in session.path() if not session.scene(n).free_text][1:]
    assert all(scene.pace_ms == 1500 for scene in chosen)
    assert session.flush_saves()
    session.close()
    again = Session.resume(config, "kept", runner=InlineRunner())
    try:
        assert again.player_profile() == before
        assert again.scene(chosen[-1].id).pace_ms == 1500
    finally:
        again.close()


def test_pace_is_recorded_the_first_time_a_choice_is_taken(tmp_path):
    session = Session.new(make_config(tmp_path), runner=InlineRunner())
    try:
        session.wait()
        scene = session.choose(0, seconds=2.5)
        session.wait()
        assert scene.pace_ms == 2500
        session.back()
        session.choose(0, seconds=30.0)         # the same choice again: its first pace stays
        session.wait()
        assert session.scene().pace_ms == 2500
        session.choose(0)                       # a front end that does not know: unmeasured
        session.wait()
        assert session.scene().pace_ms == 0
    finally:
        session.close()


def test_a_turn_folds_one_scene_whatever_the_depth(monkeypatch):
    world = load_world("lantern_coast")
    graph = StoryGraph(world.initial_state())
    node = graph.add_root(seed=1).id
    for index in range(10_000):
        node = graph.add_child(node, "Fight on", "fight", seed=index).id
    model = PlayerModel(graph)
    deep = model.profile(node)
    assert deep.turns == 10_000
    folds = []
    original = PlayerProfile.after
    monkeypatch.setattr(PlayerProfile, "after",
                        lambda self, *a, **k: folds.append(1) or original(self, *a, **k))
    child = graph.add_child(node, "Talk it over", "talk", seed=1).id
    assert model.profile(child).turns == 10_001
    assert len(folds) == 1
    model.profile(child)
    assert len(folds) == 1                        # memoised


# -- turning it off ------------------------------------------------------------------------------
def test_turning_the_player_model_off_removes_the_line_from_the_prompts(tmp_path):
    config = make_config(tmp_path)
    session = Session.new(config, narrator=RealPromptNarrator(), runner=InlineRunner())
    try:
        play(session, AGGRESSIVE, 6)
        assert profile_line(session.prompt_for()["prompt"])
        session.set_player_model(False)
        assert session.player_profile() is None and session.player_tone() is None
        play(session, AGGRESSIVE, 3)
        for node in session.path()[-3:]:
            assert session.prompt_for(node) and not profile_line(session.prompt_for(node)["prompt"])
        session.set_player_model(True)
        play(session, AGGRESSIVE, 1)
        assert profile_line(session.prompt_for()["prompt"])
    finally:
        session.close()
    off = Session.new(make_config(tmp_path, player_model=False), narrator=RealPromptNarrator(),
                      runner=InlineRunner())
    try:
        play(off, AGGRESSIVE, 6)
        assert all(not profile_line(off.prompt_for(n)["prompt"]) for n in off.path())
        assert off.narration.request(off.current, 1).player_model is None   # no weighting either
    finally:
        off.close()


def test_a_world_may_drop_or_reword_the_line(tmp_path):
    root = tmp_path / "coast"
    shutil.copytree(BUILTIN_WORLDS / "lantern_coast", root)
    (root / "prompts").mkdir()
    scene = (BUILTIN_WORLDS.parent / "prompts" / "scene.j2").read_text()
    profile = PlayerProfile().after("fight", "Die, scum!").after("fight", "Out of my way!")
    request = NarrationRequest(load_world(str(root)), load_world(str(root)).initial_state(),
                               Action("Hit him", "fight"), seed=1, node=3, player_model=profile)
    assert profile_line(PromptBuilder().build(request).user) == profile.describe()
    dropped = scene.replace("{{ player_model.line }}", "")
    (root / "prompts" / "scene.j2").write_text(dropped)
    assert not profile_line(PromptBuilder().build(request).user)
    reworded = scene.replace("{{ player_model.line }}",
                             "Our hero is {{ player_model.traits }}, feeling "
                             "{{ player_model.tone }}.")
    (root / "prompts" / "scene.j2").write_text(reworded)
    assert "Our hero is ruthless" in PromptBuilder().build(request).user


# -- steering the storylet narrator -----------------------------------------------------------
def _tagged_world(tmp_path: Path) -> Path:
    root = tmp_path / "tagged"
    (root / "storylets").mkdir(parents=True)
    (root / "world.toml").write_text(
        'title = "Tagged"\nstart = "start"\n[state]\nlocation = "yard"\n'
        '[player_model.tags]\nviolent = "ruthless"\ngentle = "kind"\n')
    (root / "storylets" / "all.toml").write_text(
        "".join(f'[[storylet]]\nid = "{ident}"\ntitle = "{ident}"\ntext = "The {ident}."\n'
                f'tags = [{tags}]\nonce = false\n'
                '[[storylet.choices]]\nlabel = "Go on"\n[[storylet.choices]]\nlabel = "Wait"\n\n'
                for ident, tags in (("start", ""), ("brawl", '"violent"'),
                                    ("garden", '"gentle"'))))
    return root


def test_the_world_maps_tags_to_tendencies_and_the_narrator_weighs_them(tmp_path):
    world = load_world(str(_tagged_world(tmp_path)))
    narrator = StoryletNarrator()
    rough = EMPTY
    for _ in range(8):
        rough = rough.after("fight", "Out of my way, fool.")
    brawl, garden = world.storylets["brawl"], world.storylets["garden"]
    assert narrator.player_factor(world, brawl, rough) > 1.5
    assert narrator.player_factor(world, garden, rough) < 0.5
    assert narrator.player_factor(world, brawl, EMPTY) == 1.0
    state = world.initial_state()

    def told(player) -> dict[str, int]:      # start, brawl and garden all fit
        picks = [narrator.pick(world, state, Action("Go on"), seed, (), player).id
                 for seed in range(300)]
        return {ident: picks.count(ident) for ident in ("brawl", "garden")}

    plain, steered = told(None), told(rough)
    assert 70 < plain["brawl"] < 130 and 70 < plain["garden"] < 130
    assert steered["brawl"] > 150 and steered["garden"] < 40


def test_a_tag_mapped_to_an_unknown_tendency_is_refused(tmp_path):
    from engine.errors import WorldError
    root = _tagged_world(tmp_path)
    text = (root / "world.toml").read_text().replace('"ruthless"', '"grumpy"')
    (root / "world.toml").write_text(text)
    with pytest.raises(WorldError, match="player_model"):
        load_world(str(root))
