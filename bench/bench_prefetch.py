"""Zero-wait play: latency from a choice to its scene being shown, with prefetch on and off.

A player reads each scene for longer than generation takes, then picks a choice. The narrator
streams like a small local LLM (a scene in ~1 s at 40 tokens/s) and the procedural painter paints
at 1280x720. "Shown" means the scene is told and its picture is in memory, polled once per
16.7 ms frame as the window does. Prints one JSON object.

Run: .venv/bin/python bench/bench_prefetch.py [--turns N]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import load_config  # noqa: E402
from engine.session.jobs import ThreadedRunner  # noqa: E402
from engine.narrators.storylets import StoryletNarrator  # noqa: E402
from engine.session.core import Session  # noqa: E402

FRAME = 1 / 60
TOKENS, TOKEN_S = 40, 1 / 40


class StreamingNarrator(StoryletNarrator):
    """Storylet scenes delivered at a small LLM's pace."""

    id, model = "bench", "streaming-40tps"

    def narrate(self, request, on_token=None):
        draft = super().narrate(request)
        for _ in range(TOKENS):
            time.sleep(TOKEN_S)
            if on_token:
                on_token(" word")
        return draft


def shown(session: Session) -> bool:
    return not session.waiting and session.image() is not None


def play(prefetch: bool, turns: int, read_s: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(use_user_file=False).with_changes(
            game={"saves_dir": tmp, "seed": 5}, prefetch={"enabled": prefetch})
        session = Session.new(config, narrator=StreamingNarrator(), runner=ThreadedRunner())
        while not shown(session):
            session.poll()
            time.sleep(FRAME)
        latencies = []
        for turn in range(turns):
            deadline = time.perf_counter() + read_s          # the player reads
            while time.perf_counter() < deadline:
                session.poll()
                time.sleep(FRAME)
            if session.ended:
                session.back()
            start = time.perf_counter()
            session.choose(turn % len(session.choices()))
            frames = 0
            while True:
                session.poll()
                if shown(session):
                    break
                frames += 1
                time.sleep(FRAME)
            latencies.append((time.perf_counter() - start) * 1000)
        session.close()
    ordered = sorted(latencies)
    return {"prefetch": prefetch, "turns": turns, "read_s": read_s,
            "p50_ms": round(statistics.median(ordered), 2),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
            "max_ms": round(ordered[-1], 2)}


def main() -> None:
    turns = int(sys.argv[sys.argv.index("--turns") + 1]) if "--turns" in sys.argv else 12
    generation_s = TOKENS * TOKEN_S
    results = {"generation_s_per_scene": generation_s,
               "with_prefetch": play(True, turns, read_s=4 * generation_s + 1),
               "without_prefetch": play(False, max(4, turns // 3), read_s=1.0),
               "target_p50_ms": 16.7}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
