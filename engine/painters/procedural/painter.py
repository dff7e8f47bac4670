"""The embedded default painter: turns an image prompt into a stylised, seeded scene.

The prompt is read with small keyword tables (`prompt_words.py`); the hour's light and the mood's
grade come from `lighting.py`; the picture is composed by layout: `landscape.py` (a sky lit for
the hour, sun or moon and stars, clouds, layered silhouettes that pale with distance, water that
mirrors them, weather) or `compositions.py` (interiors, space), from the primitives of
`canvas.py`, `terrain.py`, `sky.py`, `rooms.py` and `space.py`. When the prompt features the
player ("featuring NAME, LOOK"), `figure.py` stands their figure in the foreground. Then a mood
grade, vignette and grain. Pure CPU (numpy + PIL), well under 200 ms at 1280x720.

Same prompt + seed + size -> the same pixels. This module must not load models, touch the disk
or keep state between calls (one painter may serve several worker threads).
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from engine.errors import PainterError
from engine.painters.procedural.canvas import Canvas
from engine.painters.procedural.compositions import compose_interior, compose_space
from engine.painters.procedural.context import Context, Seeds
from engine.painters.procedural.figure import draw_player
from engine.painters.procedural.landscape import compose_landscape
from engine.painters.procedural.lighting import LIGHTS, default_time, grade_for, grade_matrix, weathered
from engine.painters.procedural.prompt_words import parse_prompt, player_clause

MAX_PIXELS = 8192 * 8192  # beyond this one picture alone would need gigabytes of float buffers


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError) as err:
        raise PainterError(f"Image size must be two whole numbers (width, height), got {size!r}.") from err
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise PainterError(f"Image size {width}x{height} is out of range: use 1x1 up to 8192x8192.")
    return width, height


class ProceduralPainter:
    """Draws stylised scenes from image prompts without any model: the offline default."""

    id = "procedural"
    model = "procedural-v1"
    steps = 1

    def paint(self, prompt: str, seed: int, size: tuple[int, int],
              on_progress: Callable[[float], None] | None = None) -> Image.Image:
        """Paint the prompt's scene, seeded, at size (width, height); returns an RGB image.

        on_progress(fraction) is called a few times with 0..1; an exception it raises (e.g.
        JobCancelled) propagates and stops the painting.
        """
        width, height = _check_size(size)
        report = on_progress or (lambda fraction: None)
        report(0.0)
        featured = player_clause(prompt)   # the scene's seeds leave the player out: every look
        scene = prompt if featured is None else prompt[:featured[0][0]] + prompt[featured[0][1]:]
        spec, seeds = parse_prompt(prompt), Seeds(scene, seed)   # gets the same place
        if spec.pixel_art:
            width, height = max(1, round(width / 6)), max(1, round(height / 6))
        canvas = Canvas(width, height)
        time = spec.time or default_time(spec, seeds("time"))
        light = weathered(LIGHTS[time], spec.weather)
        grade = grade_for(spec)
        draw = {"interior": compose_interior, "space": compose_space}.get(spec.layout, compose_landscape)
        context = Context(canvas, spec, light, seeds, grade.mist)
        draw(context, report)
        if spec.player is not None:   # the prompt features the player: their figure in front
            draw_player(context, spec.player, grade.mist)
        report(0.85)
        matrix, offset = grade_matrix(grade)
        image = canvas.develop(matrix, offset, 0.0 if spec.pixel_art else 0.035, seeds("grain"),
                               0.45 if set(spec.moods) & {"dark", "eerie", "tense"} else 0.35)
        if spec.pixel_art:
            image = image.resize(tuple(int(v) for v in size), Image.Resampling.NEAREST)
        report(1.0)
        return image
