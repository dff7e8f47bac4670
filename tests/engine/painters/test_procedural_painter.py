"""The procedural painter and the painter factory: determinism, sizes, light, progress, cancel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from engine.errors import JobCancelled, PainterError
from engine.painters import Painter, make_painter
from engine.painters.none import NonePainter
from engine.painters.procedural.painter import ProceduralPainter, parse_prompt

LIGHTHOUSE = "moody oil painting, a lighthouse on a black cliff at dusk, storm clouds, eerie mood"
VARIED = [
    LIGHTHOUSE,
    "a quiet village in the hills at noon",
    "dark pine forest at night, fog",
    "snowy mountains at dawn above a lake, calm",
    "desert dunes at sunset, triumphant",
    "harbour town at night in the rain",
    "a candle-lit tavern interior",
    "a stone dungeon corridor with torches",
    "a space station orbiting a planet",
    "a starship drifting past a nebula",
]


@pytest.fixture(scope="module")
def painter() -> ProceduralPainter:
    return ProceduralPainter()


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


def thumb(image: Image.Image) -> np.ndarray:
    return pixels(image.resize((32, 18), Image.Resampling.BOX))


def test_same_prompt_seed_and_size_give_identical_pixels(painter):
    first = painter.paint(LIGHTHOUSE, 7, (320, 180))
    second = ProceduralPainter().paint(LIGHTHOUSE, 7, (320, 180))
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("prompt", VARIED)
def test_every_kind_of_scene_renders_a_real_picture(painter, prompt):
    image = painter.paint(prompt, 3, (256, 144))
    assert image.mode == "RGB" and image.size == (256, 144)
    values = pixels(image)
    assert values.std() > 8.0, "a scene should not be a flat fill"
    assert painter.paint(prompt, 3, (256, 144)).tobytes() == image.tobytes()


def test_different_seeds_differ_but_stay_similar(painter):
    seeds = [painter.paint(LIGHTHOUSE, s, (192, 108)) for s in (1, 2)]
    other = painter.paint("a quiet village in the hills at noon", 1, (192, 108))
    assert seeds[0].tobytes() != seeds[1].tobytes()
    between_seeds = np.abs(thumb(seeds[0]) - thumb(seeds[1])).mean()
    between_prompts = np.abs(thumb(seeds[0]) - thumb(other)).mean()
    assert between_seeds < between_prompts


def test_night_is_darker_than_noon(painter):
    for place in ("hills and a forest", "a harbour town", "mountains above a lake"):
        night = np.mean([pixels(painter.paint(f"{place} at night", s, (160, 90))).mean() for s in range(3)])
        noon = np.mean([pixels(painter.paint(f"{place} at noon", s, (160, 90))).mean() for s in range(3)])
        assert night < noon * 0.6, place


@pytest.mark.parametrize("size", [(64, 36), (1, 1), (3, 200), (333, 127), (90, 160)])
def test_any_size_is_respected(painter, size):
    for prompt in (LIGHTHOUSE, "a tavern interior", "a space station in orbit", "pixel art castle on a hill"):
        image = painter.paint(prompt, 11, size)
        assert image.size == size and image.mode == "RGB"


def test_four_k_renders(painter):
    image = painter.paint("a village by the sea at dusk, rain", 5, (3840, 2160))
    assert image.size == (3840, 2160)


def test_same_seed_gives_the_same_composition_at_another_size(painter):
    small = thumb(painter.paint(LIGHTHOUSE, 4, (320, 180)))
    large = thumb(painter.paint(LIGHTHOUSE, 4, (640, 360)))
    other = thumb(painter.paint(LIGHTHOUSE, 5, (320, 180)))
    assert np.abs(small - large).mean() < np.abs(small - other).mean()


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (9000, 9000), ("wide", 3)])
def test_bad_sizes_are_refused_with_a_painter_error(painter, size):
    with pytest.raises(PainterError):
        painter.paint(LIGHTHOUSE, 1, size)


def test_progress_is_reported_from_zero_to_one(painter):
    seen: list[float] = []
    painter.paint(LIGHTHOUSE, 1, (128, 72), on_progress=seen.append)
    assert len(seen) >= 3
    assert seen == sorted(seen) and 0.0 <= seen[0] and seen[-1] == 1.0


@pytest.mark.parametrize("stop_at", [1, 2, 3])
def test_raising_on_progress_stops_painting(painter, stop_at):
    calls: list[float] = []

    def cancel(fraction: float) -> None:
        calls.append(fraction)
        if len(calls) == stop_at:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        painter.paint("a tavern interior at night", 1, (128, 72), on_progress=cancel)
    assert len(calls) == stop_at


def test_prompt_reading():
    spec = parse_prompt(LIGHTHOUSE)
    assert spec.layout == "landscape" and spec.time == "dusk"
    assert {"storm", "clouds"} <= spec.weather
    assert {"lighthouse", "cliffs"} <= spec.terrain
    assert "eerie" in spec.moods and "dark" in spec.moods  # "moody" reads as dark
    assert parse_prompt("Inside a cosy CABIN").layout == "interior"
    assert parse_prompt("a log cabin in the snowy forest").layout == "landscape"
    assert parse_prompt("a space station in orbit").layout == "space"
    assert parse_prompt("stars over the harbour").layout == "landscape"
    assert parse_prompt("the mountains at midnight").time == "night"
    assert parse_prompt("blizzard over the peaks").weather == {"snow"}
    assert parse_prompt("just words").time is None


def test_painters_follow_the_protocol():
    for painter in (ProceduralPainter(), NonePainter()):
        assert isinstance(painter, Painter)
        assert isinstance(painter.id, str) and isinstance(painter.model, str) and isinstance(painter.steps, int)
    assert (ProceduralPainter.id, ProceduralPainter.model, ProceduralPainter.steps) == ("procedural", "procedural-v1", 1)


def test_none_painter_paints_a_plain_dark_image():
    image = NonePainter().paint("anything", 3, (40, 30))
    assert image.size == (40, 30) and image.mode == "RGB"
    values = pixels(image).reshape(-1, 3)
    assert (values == values[0]).all() and values.mean() < 40


def test_make_painter_builds_known_painters():
    assert isinstance(make_painter("procedural"), ProceduralPainter)
    assert isinstance(make_painter(" None "), NonePainter)


@pytest.mark.parametrize("spec", ["", "watercolour", "procedural:v2", "diffusers", "diffusers:  "])
def test_make_painter_refuses_unknown_specs(spec):
    with pytest.raises(PainterError) as caught:
        make_painter(spec)
    assert "diffusers:" in str(caught.value)


def test_make_painter_explains_a_missing_diffusers_stack(monkeypatch):
    monkeypatch.setitem(sys.modules, "engine.painters.diffusers", None)  # import raises ImportError
    with pytest.raises(PainterError) as caught:
        make_painter("diffusers:stabilityai/sd-turbo")
    assert "pip install" in str(caught.value)


def test_importing_painters_stays_cheap():
    code = ("import sys, engine.painters; heavy = {'torch', 'diffusers', 'transformers', 'numpy'} & set(sys.modules); "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[3]))


# -- pictures that follow the scene: declared place, time, weather and lights ------------------
COAST_STYLE = (", calm atmosphere, moody oil painting, muted teal, slate grey and lamp-amber, heavy sea "
               "mist, loose visible brushwork")
MOOR = ("open heather moor on a small island, a turf-roofed stone cottage with a thread of peat smoke, a "
        "tall standing stone, sea visible on both sides, windy overcast afternoon" + COAST_STYLE)
PEAT = ("two figures stacking cut peat beside a turf-roofed cottage on a moor, a brief break of watery "
        "sunlight, blue sea far below" + COAST_STYLE)
DARK_LIGHTHOUSE = ("a lighthouse standing dark on a cliff on a stormy night, far below a green light "
                   "glowing in a sea cave" + COAST_STYLE)


def green_over_blue(image: Image.Image) -> float:
    """How much greener than blue the foreground (72-95% down) is: land is green, water is not."""
    low = pixels(image)[int(image.height * 0.72): int(image.height * 0.95)]
    return float(low[..., 1].mean() - low[..., 2].mean())


def warm_lights(image: Image.Image) -> int:
    """Pixels of lamp-amber light: a lit lantern, its beam, lit windows."""
    a = pixels(image)
    return int(((a[..., 0] > 120) & (a[..., 1] > 90) & (a[..., 0] > a[..., 2] + 20)).sum())


def test_declarations_override_the_words():
    spec = parse_prompt("[picture place=moor time=day weather=clear lights=unlit] a harbour town at night, rain")
    assert (spec.layout, spec.terrain, spec.time, spec.weather, spec.lights) == \
        ("landscape", frozenset({"hills"}), "noon", frozenset({"clear"}), False)
    assert "picture" not in spec.words and "moor" not in spec.words
    # a location's declaration only fills in what the words leave open
    spec = parse_prompt("a harbour at dusk in the rain [location place=moor time=noon weather=clear]")
    assert (spec.place, spec.time, spec.weather) == ("moor", "dusk", frozenset({"rain"}))
    # ... and never turns a room or a view of space outdoors, nor sets a room's lamps
    room = parse_prompt("an inn interior with a peat fire [location place=harbour lights=unlit]")
    assert (room.layout, room.place, room.lights) == ("interior", None, None)
    assert parse_prompt("a suited figure on a starship hull [location place=interior]").layout == "space"
    assert parse_prompt("a sea cave [location place=caves]").layout == "interior"
    # the scene's own declaration comes first, the location's after it
    assert parse_prompt("[picture lights=lit] a lighthouse [location lights=unlit]").lights is True
    assert parse_prompt("a dark lighthouse on a cliff").lights is False


def test_the_moor_is_land_and_the_harbour_is_water(painter):
    for seed in range(3):
        moor = painter.paint(MOOR + " [location place=moor]", seed, (192, 108))
        harbour = painter.paint(MOOR + " [location place=harbour]", seed, (192, 108))
        assert green_over_blue(moor) > 8.0, "the moor's foreground should be heather and grass"
        assert green_over_blue(harbour) < 0.0, "the harbour's foreground should be water"
        # without the declaration the words "sea on both sides" and "cottage" painted a harbour town
        guessed = painter.paint(MOOR, seed, (192, 108))
        assert green_over_blue(guessed) < 0.0


def test_a_declared_day_is_bright_and_a_declared_night_dark(painter):
    for seed in range(3):
        day = pixels(painter.paint("[picture place=moor time=afternoon weather=clouds] " + PEAT, seed, (192, 108)))
        night = pixels(painter.paint("[picture place=moor time=night] " + PEAT, seed, (192, 108)))
        sky_day, sky_night = day[:36], night[:36]
        assert sky_day.mean() > 2.5 * sky_night.mean()
        assert (sky_day[..., 2] - sky_day[..., 0]).mean() > 20.0, "a daytime sky is blue"


def test_an_unlit_lighthouse_has_no_lantern_or_beam(painter):
    for seed in range(3):
        unlit = painter.paint(DARK_LIGHTHOUSE + " [location place=lighthouse lights=unlit]", seed, (320, 180))
        lit = painter.paint(DARK_LIGHTHOUSE + " [picture lights=lit] [location lights=unlit]", seed, (320, 180))
        assert warm_lights(unlit) == 0
        assert warm_lights(lit) >= 10
