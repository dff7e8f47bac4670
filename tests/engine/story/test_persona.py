"""The player's profile: the world's suggestions fill what the story leaves empty, and the
rule that decides whether a scene's picture shows the player."""

from __future__ import annotations

from engine.story.persona import Persona, in_frame, persona_of
from engine.story.playstate import PlayState
from engine.worlds.loading import load_world


def test_an_empty_profile_reads_as_the_worlds_suggestions():
    world = load_world("lantern_coast")
    hero = persona_of(world, PlayState())
    assert hero.name == world.spec.player.name == "Wren"
    assert hero.pronouns == "they/them" and "oilskin" in hero.look
    assert hero.role == world.spec.player_role and hero.portrait == ""
    own = persona_of(world, PlayState(player_name="Mira", look="tall, a red cloak"))
    assert (own.name, own.pronouns, own.look) == ("Mira", "they/them", "tall, a red cloak")
    assert own.appearance() == "Mira, tall, a red cloak"
    assert own.template_context() == {"name": "Mira", "pronouns": "they/them",
                                      "look": "tall, a red cloak", "role": world.spec.player_role}


def test_the_player_is_in_frame_when_the_picture_or_the_first_sentence_speaks_of_them():
    mira = Persona(name="Mira", look="tall")
    assert in_frame(mira, "you stand on the quay at dusk", "")
    assert in_frame(mira, "a lighthouse at dusk", "You climb the steps. The lamp turns.")
    assert in_frame(mira, "Mira on the quay", "")
    assert in_frame(mira, "MIRA's boat", "")
    # a place alone, and narration that speaks of the player only after its first sentence
    assert not in_frame(mira, "a lighthouse at dusk", "The lamp turns. You watch it.")
    assert not in_frame(mira, "Admiral's flag on the mast", "")   # no word inside a word
    assert not in_frame(mira, "", "")
