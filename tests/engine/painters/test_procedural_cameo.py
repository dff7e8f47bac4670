"""The procedural painter's player figure: drawn in the look's colours and build when the prompt
features the player ("featuring NAME, LOOK", as image.j2 renders it), never otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from engine.narrators.prompting import PromptBuilder
from engine.painters.procedural import painter as painter_module
from engine.painters.procedural.painter import ProceduralPainter
from engine.painters.procedural.prompt_words import parse_prompt, player_clause
from engine.story.persona import Persona
from engine.worlds.loading import load_world

SIZE = (320, 180)
SCENE = ("open heather moor on a small island, a tall standing stone, windy overcast afternoon, "
         "featuring Wren, {look}, moor, calm atmosphere, moody oil painting [location place=moor]")
PLAIN = [
    "open heather moor on a small island, overcast afternoon, moor, calm atmosphere",
    "moody oil painting, a lighthouse on a black cliff at dusk, storm clouds, eerie mood",
    "a candle-lit tavern interior",
    "harbour town at night in the rain",
]


@pytest.fixture(scope="module")
def painter() -> ProceduralPainter:
    return ProceduralPainter()


def figure_mask(painter: ProceduralPainter, look: str, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """The painted picture and the pixels the figure changed: the scene painted without the
    player's part is the same place (its seeds leave the player out)."""
    prompt = SCENE.format(look=look)
    (start, end), _ = player_clause(prompt)
    scene = np.asarray(painter.paint(prompt[:start] + prompt[end:], seed, SIZE), np.float32)
    shown = np.asarray(painter.paint(prompt, seed, SIZE), np.float32)
    return shown, np.abs(shown - scene).max(axis=2) > 24


def test_the_figure_wears_the_looks_colours(painter):
    red, red_mask = figure_mask(painter, "a red coat")
    blue, blue_mask = figure_mask(painter, "a blue hooded cloak")
    assert red_mask.sum() > 200 and blue_mask.sum() > 200
    r, g, b = red[red_mask].mean(axis=0)
    assert r > b + 20 and r > g + 20, (r, g, b)
    r, g, b = blue[blue_mask].mean(axis=0)
    assert b > r + 20 and b > g, (r, g, b)


def test_a_tall_figure_stands_taller_than_a_short_one(painter):
    def height(look: str) -> int:
        rows = np.nonzero(figure_mask(painter, look)[1].any(axis=1))[0]
        return int(rows[-1] - rows[0])
    assert height("tall, a grey coat") > height("short, a grey coat") * 1.2


def test_the_figure_is_the_same_for_the_same_seed(painter):
    prompt = SCENE.format(look="slight, black hair, a green jacket, a staff")
    first, second = painter.paint(prompt, 11, SIZE), painter.paint(prompt, 11, SIZE)
    assert first.tobytes() == second.tobytes()
    assert figure_mask(painter, "slight, black hair, a green jacket, a staff")[1].sum() > 100


def test_a_prompt_without_the_player_never_draws_a_figure(painter, monkeypatch):
    before = {p: painter.paint(p, 5, SIZE).tobytes() for p in PLAIN}

    def refuse(*args, **kwargs):
        raise AssertionError("a figure was drawn for a prompt without the player")

    monkeypatch.setattr(painter_module, "draw_player", refuse)
    for prompt in PLAIN:   # the same pixels, and the figure code never ran
        assert painter.paint(prompt, 5, SIZE).tobytes() == before[prompt]
    assert parse_prompt("a cove featuring a wreck, harbour").player is None


def test_the_look_is_read_from_the_prompt_image_j2_renders():
    world = load_world("lantern_coast")
    scene = type("Told", (), {"title": "Quay", "mood": "tense", "narration": "You wait.",
                              "image_prompt": "you on an empty quay at dusk"})()
    hero = Persona(name="Mira", look="Tall, long silver hair, dark skin, a crimson hooded cloak, a lantern")
    prompt = PromptBuilder().image_prompt(world, scene, world.initial_state(), player=hero)
    spec = parse_prompt(prompt)
    look = spec.player
    assert look is not None and look.name == "Mira"
    assert look.colours["cloak"] == "crimson" and look.colours["hood"] == "crimson"
    assert look.colours["hair"] == "silver" and look.colours["skin"] == "dark"
    assert look.builds == ("tall",) and "lantern" in look.parts
    assert "crimson" not in spec.words and "skin" not in spec.words   # the look is not the scene
    alone = parse_prompt("you on an empty quay at dusk, dark skin, harbour, tense atmosphere")
    assert alone.moods[0] == "dark" and parse_prompt(
        "you on an empty quay at dusk, featuring Mira, dark skin, harbour, tense atmosphere").moods == ("tense",)


def test_the_look_ends_where_a_character_or_the_atmosphere_begins():
    prompt = ("a moor, featuring Wren, short and sturdy, short black hair, yellow oilskin coat, moor, "
              "Maren Holt, weathered woman, long grey braid, patched blue coat, tense atmosphere")
    look = player_clause(prompt)[1]
    assert look.colours == {"hair": "black", "coat": "yellow"}
    assert look.builds == ("short", "broad")   # "short black hair" is the hair's length
    assert "Maren" not in look.text and "moor" not in look.text
