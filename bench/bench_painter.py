"""Benchmark: procedural painting at 1280x720 over varied prompts, and image cache put/get.

Prints one JSON object. Wall times are what a player waits; CPU times (this thread only) show the
painter's own cost when other processes compete for the cores. Run: python bench/bench_painter.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.painters.imagecache import ImageCache, cache_key  # noqa: E402
from engine.painters.procedural.painter import ProceduralPainter  # noqa: E402

SIZE = (1280, 720)
PROMPTS = [
    "moody oil painting, a lighthouse on a black cliff at dusk, storm clouds, eerie mood",
    "a quiet village in the hills at noon",
    "dark pine forest at night, fog",
    "snowy mountains at dawn above a lake, calm",
    "desert dunes at sunset, triumphant",
    "harbour town at night in the rain",
    "a candle-lit tavern interior",
    "a stone dungeon corridor with torches",
    "a grand throne hall at night, mysterious",
    "a space station orbiting a planet",
    "a starship drifting past a nebula",
    "a sailing ship on a calm sea at sunset",
    "a wizard tower on a hill in the afternoon, bright",
    "a castle above a misty valley at morning",
    "a city skyline at dusk, tense",
    "a frozen tundra under the stars, melancholy",
    "rolling meadows and an orchard, golden hour",
    "a ruined temple in the jungle, rain",
    "a cosy bedroom with a window at night",
    "storm over the ocean, lightning",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_painter(rounds: int = 3) -> dict:
    painter = ProceduralPainter()
    painter.paint(PROMPTS[0], 0, SIZE)  # warm-up: imports, first allocations
    wall, cpu = [], []
    for round_ in range(rounds):
        for prompt in PROMPTS:
            started, cpu_started = time.perf_counter(), time.thread_time()
            painter.paint(prompt, round_, SIZE)
            wall.append((time.perf_counter() - started) * 1000.0)
            cpu.append((time.thread_time() - cpu_started) * 1000.0)
    return {
        "paint_ms_median": round(statistics.median(wall), 1),
        "paint_ms_p90": round(percentile(wall, 0.9), 1),
        "paint_cpu_ms_median": round(statistics.median(cpu), 1),
        "paint_cpu_ms_p90": round(percentile(cpu, 0.9), 1),
        "paints": len(wall),
    }


def bench_cache(rounds: int = 10) -> dict:
    painter = ProceduralPainter()
    images = [painter.paint(p, 1, SIZE) for p in PROMPTS[:rounds]]
    with tempfile.TemporaryDirectory() as folder:
        cache = ImageCache(Path(folder))
        keys = [cache_key(painter.id, painter.model, p, None, 1, SIZE, painter.steps) for p in PROMPTS[:rounds]]
        put, get = [], []
        for key, image in zip(keys, images):
            started = time.perf_counter()
            cache.put(key, image)
            put.append((time.perf_counter() - started) * 1000.0)
        for key in keys:
            started = time.perf_counter()
            assert cache.get(key) is not None
            get.append((time.perf_counter() - started) * 1000.0)
        size = cache.size_bytes() / len(keys)
    return {
        "cache_put_ms_median": round(statistics.median(put), 1),
        "cache_get_ms_median": round(statistics.median(get), 1),
        "cache_file_kib_mean": round(size / 1024.0, 1),
    }


def main() -> None:
    result = {"size": list(SIZE), "prompts": len(PROMPTS)}
    result.update(bench_painter())
    result.update(bench_cache())
    result["cpu_count"] = os.cpu_count()
    result["load_average_1m"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    print(json.dumps(result))


if __name__ == "__main__":
    main()
