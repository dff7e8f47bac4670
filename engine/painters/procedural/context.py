"""What every composition of the procedural painter shares while it paints one picture.

`Seeds` hands out an independent generator per drawing step, fixed by prompt and seed, so adding a
step never reshuffles the others. `Context` carries the canvas, the reading of the prompt, the
hour's light and the seeds, and paints one hazed, lit silhouette layer.

A context lives for one picture only. This module must not decide what to draw (`landscape.py`
and `compositions.py` do), nor keep state between pictures: one painter serves several threads.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field

import numpy as np

from engine.painters.procedural.canvas import Canvas, TopFn
from engine.painters.procedural.lighting import Lighting
from engine.painters.procedural.prompt_words import SceneSpec
from engine.painters.procedural.terrain import layer_colours


class Seeds:
    """Independent generators per drawing step, so adding a step never reshuffles the others."""

    def __init__(self, prompt: str, seed: int) -> None:
        digest = hashlib.sha256(prompt.encode("utf-8", "surrogatepass")).digest()
        self._base = [int(seed) % 2**64, int.from_bytes(digest[:8], "little")]

    def __call__(self, name: str) -> np.random.Generator:
        return np.random.default_rng(self._base + [zlib.crc32(name.encode())])

    def of_prompt(self, name: str) -> np.random.Generator:
        """A generator fixed by the prompt alone: for choices every seed of a prompt should share."""
        return np.random.default_rng([self._base[1], zlib.crc32(name.encode())])


@dataclass
class Context:
    """What every drawing step needs: the canvas, the reading of the prompt and the light."""

    canvas: Canvas
    spec: SceneSpec
    light: Lighting
    seeds: Seeds
    mood_mist: float
    focus: list[float] = field(default_factory=list)  # x of what the eye goes to: sun, lighthouse, boat
    light_x: float | None = None  # x of the sun or moon, where a landscape has one

    def haze(self, depth: float, mist: float) -> float:
        """How far a layer at depth (0 near .. 1 far) fades into the haze colour."""
        return float(min(0.94, 0.03 + (0.18 + mist) * depth**1.15))

    def layer(self, top: TopFn, albedo: np.ndarray, depth: float, top_y: float, foot_y: float,
              mist: float, gain: np.ndarray | None = None, gain_depth: float = 0.15) -> None:
        """Paint one silhouette: albedo lit by the hour, hazed by depth, misty at its foot."""
        colours = layer_colours(self.canvas, albedo * self.light.ambient, self.light.haze,
                                self.haze(depth, mist), top_y, foot_y, min(0.9, mist * 0.9) * depth**0.5)
        self.canvas.paint_profile(top, colours, gain, gain_depth)
