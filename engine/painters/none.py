"""The "none" painter: a plain dark image, for `--painter none` (callers treat it as no images).

It exists so that every caller can rely on a painter being present. It must stay trivial: no
randomness, no drawing, no imports beyond PIL.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from engine.errors import PainterError

BACKGROUND = (16, 16, 20)  # near-black, slightly cool: the UI's empty-scene colour


class NonePainter:
    """Paints nothing: a uniform dark RGB image of the requested size."""

    id = "none"
    model = "none"
    steps = 0

    def paint(self, prompt: str, seed: int, size: tuple[int, int],
              on_progress: Callable[[float], None] | None = None) -> Image.Image:
        """Return a plain dark image of size (width, height); prompt and seed are ignored."""
        try:
            width, height = (int(v) for v in size)
        except (TypeError, ValueError) as err:
            raise PainterError(f"Image size must be two whole numbers (width, height), got {size!r}.") from err
        if width < 1 or height < 1:
            raise PainterError(f"Image size {width}x{height} is out of range: both sides must be at least 1.")
        if on_progress is not None:
            on_progress(1.0)
        return Image.new("RGB", (width, height), BACKGROUND)
