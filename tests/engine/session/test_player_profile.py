"""The player's profile reaches every prompt through the one `player` template name: the
narrator's system prompt, the storylet text, the image prompt (the look, when the player is in
frame) and the music prompt; a change applies from the next scene on; an OpenAI-compatible
narrator gets the text look only."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from PIL import Image

from engine.audio.music.tracks import music_prompt
from engine.narrators import make_narrator
from engine.narrators.prompting import PromptBuilder
from engine.session.core import Session
from engine.session.jobs import InlineRunner
from engine.story.persona import Persona
from engine.worlds.loading import load_world

from tests.support.fake_openai_server import FakeOpenAI
from tests.support.llm_fixtures import make_request, make_world

LOOK = "tall, silver hair, a crimson hooded cloak"


def test_the_narrator_prompt_names_the_players_profile(config):
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                          player={"name": "Mira", "pronouns": "she/her", "look": LOOK})
    try:
        session.wait()
        request = session.narration.request(session.current, 1)
        prompt = PromptBuilder().build(request)
        assert "The player is Mira (she/her), " in prompt.system
        assert "Looks: tall, silver hair, a crimson hooded cloak." in prompt.system
        session.set_player(name="Ash", pronouns="he/him", look="short, a green coat")
        changed = PromptBuilder().build(session.narration.request(session.current, 1))
        assert "The player is Ash (he/him), " in changed.system and "Mira" not in changed.system
    finally:
        session.close()


def test_the_image_prompt_describes_the_player_only_when_in_frame():
    world = load_world("lantern_coast")
    state = world.initial_state()
    scene = type("Told", (), {"title": "Quay", "mood": "calm", "narration": "The bell tolls.",
                              "image_prompt": "an empty quay at dusk"})()
    hero = Persona(name="Mira", look=LOOK)
    builder = PromptBuilder()
    assert LOOK not in builder.image_prompt(world, scene, state, player=hero)
    scene.image_prompt = "you on an empty quay at dusk"
    shown = builder.image_prompt(world, scene, state, player=hero)
    assert f"featuring Mira, {LOOK}" in shown
    scene.image_prompt, scene.narration = "an empty quay", "You wait by the bell. It tolls."
    assert f"Mira, {LOOK}" in builder.image_prompt(world, scene, state, player=hero)


def test_the_same_look_in_every_picture_that_shows_the_player(config):
    session = Session.new(config.with_changes(game={"painter": "none"}), runner=InlineRunner(),
                          player={"name": "Mira", "look": LOOK})
    try:
        session.wait()
        shown = 0
        for turn in range(8):
            session.choose(turn % 2 if len(session.choices()) > 1 else 0)
            session.wait()
            version = session.scene().current
            first = re.split(r"[.!?]", version.narration.strip())[0]
            has_you = bool(re.search(r"\b(you|your|yours|yourself|mira)\b",
                                     f"{version.image_prompt} {first}", re.IGNORECASE))
            prompt = session.image_prompt()
            assert (f"Mira, {LOOK}" in prompt) == has_you, (prompt, first)
            shown += has_you
        assert shown, "no scene in eight showed the player"
    finally:
        session.close()


def test_storylet_text_and_the_music_prompt_get_the_same_player(tmp_path):
    root = make_world(tmp_path / "coast")
    (root / "prompts").mkdir(exist_ok=True)
    (root / "prompts" / "music.j2").write_text(
        "a theme for {{ player.name }} ({{ player.pronouns }}), {{ mood }}")
    world = load_world(str(root))
    text, problem = music_prompt(world, "calm", "", Persona("Mira", "she/her").template_context())
    assert not problem and text == "a theme for Mira (she/her), calm"
    from engine.narrators.storylets import StoryletNarrator
    context = StoryletNarrator.context(world, world.initial_state(), Persona("Mira", "she/her"))
    assert context["player"]["name"] == "Mira" and context["player"]["pronouns"] == "she/her"


def test_an_openai_server_narrator_gets_the_text_look_and_never_the_portrait(tmp_path):
    world = load_world(str(make_world(tmp_path / "coast")))
    portrait = tmp_path / "me.png"
    Image.new("RGB", (64, 64), (10, 200, 30)).save(portrait)
    hero = Persona(name="Mira", pronouns="she/her", look=LOOK, portrait="c" * 64)
    with FakeOpenAI() as server:
        narrator = make_narrator(f"openai:tiny-model@{server.url}", backoff=0.01)
        narrator.narrate(replace(make_request(world), player=hero))
    body = json.dumps(server.requests[0])
    assert LOOK in body and "Mira (she/her)" in body
    assert "c" * 64 not in body                        # not even the portrait's name
    assert all(isinstance(m["content"], str) for m in server.requests[0]["messages"])  # no parts
